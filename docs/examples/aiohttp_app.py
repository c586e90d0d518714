"""aiohttp + aws-batch-async: ONE BatchService for the app, through ``cleanup_ctx``.

The cleanup context opens the service when the app starts and closes it (after the background
fan-outs) when the app stops; handlers reach it as ``request.app[BATCH]``, a typed
``web.AppKey``. One error middleware maps every library error and bad input to an HTTP status
(``http_errors.py``, shared with the FastAPI example).

Run it with AWS credentials and ``AWS_BATCH_JOB_QUEUE`` / ``AWS_BATCH_JOB_DEFINITION`` set::

    python docs/examples/aiohttp_app.py      # serves http://127.0.0.1:8080
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import pydantic
from aiohttp import web
from aiohttp.typedefs import Handler
from fanouts import Fanouts
from http_errors import HANDLED, NotFoundError, http_error

from aws_batch_async import (
    BatchConfig,
    BatchError,
    BatchService,
    JobDetail,
    JobRequest,
    JobSummary,
)

BATCH = web.AppKey("batch", BatchService)
FANOUTS = web.AppKey("fanouts", Fanouts)
routes = web.RouteTableDef()


def create_app(config: BatchConfig | None = None, *, session: Any = None) -> web.Application:
    """The app. ``config`` defaults to ``BatchConfig.from_env()``, read at startup.

    Args:
        config: The service's settings.
        session: An aiobotocore or aioboto3 session to share (never closed by the service).
    """

    async def batch_service(app: web.Application) -> AsyncIterator[None]:
        async with BatchService(config or BatchConfig.from_env(), session=session) as batch:
            app[BATCH] = batch
            app[FANOUTS] = fanouts = Fanouts(batch)
            try:
                yield
            finally:
                await fanouts.aclose()  # before the service closes

    app = web.Application(middlewares=[errors])
    app.cleanup_ctx.append(batch_service)
    app.add_routes(routes)
    return app


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The ONE error mapping: library errors and bad input, by ``http_errors``."""
    try:
        return await handler(request)
    except HANDLED as exc:
        error = http_error(exc)
        return web.json_response(error.body, status=error.status, headers=error.headers)


# ---------------------------------------------------------------------------------------------
# Input and output


class SubmitBody(pydantic.BaseModel):
    """A job to run: the command and its environment (the queue and definition are the app's)."""

    model_config = pydantic.ConfigDict(extra="forbid", hide_input_in_errors=True)

    command: list[str] = pydantic.Field(min_length=1, max_length=100)
    env_vars: dict[str, str] = pydantic.Field(default_factory=dict, max_length=50)
    job_name: str | None = None

    def to_request(self) -> JobRequest:
        return JobRequest(
            job_name=self.job_name, command=self.command, env_vars=self.env_vars or None
        )


class FanoutBody(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", hide_input_in_errors=True)

    jobs: list[SubmitBody] = pydantic.Field(min_length=1, max_length=500)


Body = TypeVar("Body", bound=pydantic.BaseModel)
SUMMARY_FIELDS = {"job_id", "job_name", "status", "status_reason", "created_at", "exit_code"}


async def body_of(request: web.Request, model: type[Body]) -> Body:
    """The request's JSON body as ``model``; ``pydantic.ValidationError`` (a 422) if it is not."""
    return model.model_validate_json(await request.read())


#: A job's fields in answers: the same as the FastAPI example's ``JobView``.
JOB_FIELDS = {
    "job_id",
    "job_name",
    "status",
    "status_reason",
    "exit_code",
    "created_at",
    "started_at",
    "stopped_at",
}


def job_view(job: JobDetail) -> dict[str, Any]:
    return job.model_dump(mode="json", include=JOB_FIELDS)


def ndjson(job: JobSummary) -> bytes:
    return job.model_dump_json(include=SUMMARY_FIELDS).encode() + b"\n"


def query_float(request: web.Request, name: str, default: float, *, high: float) -> float:
    """A float query parameter in (0, high]; ``ValueError`` (a 422) otherwise."""
    value = float(request.query.get(name, default))
    if not 0 < value <= high:
        raise ValueError(f"{name} must be in (0, {high:g}]")
    return value


# ---------------------------------------------------------------------------------------------
# Handlers


@routes.post("/jobs")
async def submit(request: web.Request) -> web.Response:
    body = await body_of(request, SubmitBody)
    job = await request.app[BATCH].submit_job(body.to_request())
    return web.json_response({"job_id": job.job_id, "job_name": job.job_name}, status=201)


@routes.post("/jobs/batch")
async def submit_many(request: web.Request) -> web.Response:
    body = await body_of(request, FanoutBody)
    jobs = await request.app[BATCH].submit_jobs([job.to_request() for job in body.jobs])
    return web.json_response(
        [{"job_id": j.job_id, "job_name": j.job_name} for j in jobs], status=201
    )


@routes.get("/jobs")
async def list_jobs(request: web.Request) -> web.StreamResponse:
    """Every job of the queue (every status unless ``?status=``), streamed as NDJSON."""
    status = request.query.get("status")
    jobs = request.app[BATCH].list_jobs(
        job_status=status or None,  # not a status: ValueError, 422
        job_name=request.query.get("name"),
    )
    first = await anext(jobs, None)  # AWS errors before the first line still get a status
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    try:
        if first is not None:
            await response.write(ndjson(first))
            async for job in jobs:  # the next page is fetched as the client reads
                await response.write(ndjson(job))
    except BatchError as exc:  # the status line is sent: report it in the stream
        await response.write(json.dumps(http_error(exc).body).encode() + b"\n")
    await response.write_eof()
    return response


@routes.get("/jobs/{job_id}")
async def get_status(request: web.Request) -> web.Response:
    job = await request.app[BATCH].get_job_status(request.match_info["job_id"])
    return web.json_response(job_view(job))


@routes.get("/jobs/{job_id}/wait")
async def wait(request: web.Request) -> web.Response:
    """The job once SUCCEEDED or FAILED; 504 (``WaitTimeoutError``) if it takes longer."""
    timeout = query_float(request, "timeout", 30, high=300)
    job = await request.app[BATCH].wait_for(
        request.match_info["job_id"], timeout=timeout, raise_on_failure=False
    )
    return web.json_response(job_view(job))


@routes.post("/jobs/{job_id}/cancel")
async def cancel(request: web.Request) -> web.Response:
    """Stop the job whatever its status (CancelJob alone does nothing to a RUNNING job)."""
    job_id = request.match_info["job_id"]
    reason = request.query.get("reason", "cancelled through the API")
    before = await request.app[BATCH].stop_job(job_id, reason)
    return web.json_response({"job_id": job_id, "status_before": before.status.value}, status=202)


@routes.get("/jobs/{job_id}/explain")
async def explain(request: web.Request) -> web.Response:
    diagnosis = await request.app[BATCH].explain(request.match_info["job_id"])
    return web.json_response(
        {
            "job_id": diagnosis.job.job_id,
            "status": diagnosis.job.status.value,
            "verdict": diagnosis.verdict.value,
            "reasons": diagnosis.reasons,
            "position": diagnosis.position,
        }
    )


@routes.get("/jobs/{job_id}/logs")
async def logs(request: web.Request) -> web.StreamResponse:
    """The job's log lines as server-sent events (``?follow=1``: until the job ends)."""
    batch = request.app[BATCH]
    job_id = request.match_info["job_id"]
    await batch.get_job_status(job_id)  # an unknown job is a 404 before the stream starts
    events = batch.get_logs(job_id, follow=request.query.get("follow") in ("1", "true"))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    try:
        async for event in events:
            line = event.model_dump_json(include={"timestamp", "message", "attempt"})
            await response.write(f"event: log\ndata: {line}\n\n".encode())
        await response.write(b"event: end\ndata: {}\n\n")
    except BatchError as exc:  # the status line is sent: report it in the stream
        body = json.dumps(http_error(exc).body)
        await response.write(f"event: error\ndata: {body}\n\n".encode())
    await response.write_eof()
    return response


@routes.post("/fanouts")
async def start_fanout(request: web.Request) -> web.Response:
    """Submit now, follow in the background: the answer comes before the jobs finish."""
    body = await body_of(request, FanoutBody)
    jobs = await request.app[BATCH].submit_jobs([job.to_request() for job in body.jobs])
    fanout = request.app[FANOUTS].follow(jobs)
    return web.json_response({"fanout_id": fanout.fanout_id, "job_ids": fanout.job_ids}, status=202)


@routes.get("/fanouts/{fanout_id}")
async def get_fanout(request: web.Request) -> web.Response:
    fanout_id = request.match_info["fanout_id"]
    fanout = request.app[FANOUTS].get(fanout_id)
    if fanout is None:
        raise NotFoundError(f"no fan-out {fanout_id!r}")  # {"error", "message"}, as all errors
    return web.json_response(fanout.view())


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=8080)
