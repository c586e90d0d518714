"""FastAPI + aws-batch-async: ONE BatchService for the whole app, opened in the lifespan.

A ``BatchService`` per request would create an aiobotocore client per request (a new
connection pool, credentials resolved again: about 55x the CPU of a shared client) and, if
it is not closed, leak its session. Here the lifespan opens one service at startup and closes
it at shutdown, after the background fan-outs; every endpoint gets it through a dependency,
``Annotated[BatchService, Depends(get_batch)]``.

Run it with AWS credentials and ``AWS_BATCH_JOB_QUEUE`` / ``AWS_BATCH_JOB_DEFINITION`` set
(``BatchConfig.from_env()``), or against a LocalBatch (``aws-batch-async local`` prints the
variables to export)::

    uvicorn fastapi_app:app --app-dir docs/examples
"""

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fanouts import Fanouts
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from http_errors import HANDLED, NotFoundError, http_error, validation_error
from pydantic import BaseModel, ConfigDict, Field

from aws_batch_async import BatchConfig, BatchError, BatchService, JobDetail, JobRequest, JobStatus

logger = logging.getLogger("batch_web")


# ---------------------------------------------------------------------------------------------
# The app: one service, opened and closed by the lifespan


def create_app(config: BatchConfig | None = None, *, session: Any = None) -> FastAPI:
    """The app. ``config`` defaults to ``BatchConfig.from_env()``, read at startup.

    Args:
        config: The service's settings.
        session: An aiobotocore or aioboto3 session to share (never closed by the service).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with BatchService(config or BatchConfig.from_env(), session=session) as batch:
            fanouts = Fanouts(batch)
            try:
                yield {"batch": batch, "fanouts": fanouts}  # request.state.batch, ...
            finally:
                await fanouts.aclose()  # before the service closes

    app = FastAPI(title="Batch jobs", lifespan=lifespan)
    for exc_class in (*HANDLED, RequestValidationError):
        app.add_exception_handler(exc_class, error_handler)
    app.include_router(router)
    return app


async def error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The ONE exception handler: every library error and bad input, by ``http_errors``."""
    if isinstance(exc, RequestValidationError):
        error = validation_error(exc.errors())
    else:
        error = http_error(exc)
    return JSONResponse(error.body, status_code=error.status, headers=error.headers)


def get_batch(request: Request) -> BatchService:
    """The app's one service (from the lifespan's state)."""
    batch: BatchService = request.state.batch
    return batch


def get_fanouts(request: Request) -> Fanouts:
    """The app's background fan-outs (from the lifespan's state)."""
    fanouts: Fanouts = request.state.fanouts
    return fanouts


Batch = Annotated[BatchService, Depends(get_batch)]
Background = Annotated[Fanouts, Depends(get_fanouts)]


# ---------------------------------------------------------------------------------------------
# What clients send and get


class SubmitBody(BaseModel):
    """A job to run: the command and its environment (the queue and definition are the app's)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    command: list[str] = Field(min_length=1, max_length=100)
    env_vars: dict[str, str] = Field(default_factory=dict, max_length=50)
    job_name: str | None = None

    def to_request(self) -> JobRequest:
        """The ``JobRequest``; raises ``pydantic.ValidationError`` (a 422) on AWS's limits."""
        return JobRequest(
            job_name=self.job_name, command=self.command, env_vars=self.env_vars or None
        )


class FanoutBody(BaseModel):
    """Several jobs at once."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    jobs: list[SubmitBody] = Field(min_length=1, max_length=500)


class JobRef(BaseModel):
    job_id: str
    job_name: str


class JobView(BaseModel):
    job_id: str
    job_name: str
    status: JobStatus
    status_reason: str | None = None
    exit_code: int | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None

    @classmethod
    def of(cls, job: JobDetail) -> "JobView":
        return cls(
            job_id=job.job_id,
            job_name=job.job_name,
            status=job.status,
            status_reason=job.status_reason,
            exit_code=job.exit_code,
            created_at=job.created_at,
            started_at=job.started_at,
            stopped_at=job.stopped_at,
        )


# ---------------------------------------------------------------------------------------------
# Endpoints

router = APIRouter()  # included by create_app


@router.post("/jobs", status_code=201)
async def submit(body: SubmitBody, batch: Batch) -> JobRef:
    job = await batch.submit_job(body.to_request())
    return JobRef(job_id=job.job_id, job_name=job.job_name)


@router.post("/jobs/batch", status_code=201)
async def submit_many(body: FanoutBody, batch: Batch) -> list[JobRef]:
    """Fan out: every request validated first, then submitted (paced, exactly once)."""
    jobs = await batch.submit_jobs([job.to_request() for job in body.jobs])
    return [JobRef(job_id=job.job_id, job_name=job.job_name) for job in jobs]


@router.get("/jobs")
async def list_jobs(
    batch: Batch,
    status: str | None = None,  # list_jobs refuses what is not a status (ValueError: 422)
    name: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
) -> StreamingResponse:
    """Every job of the queue (every status unless one is given), streamed as NDJSON."""
    jobs = batch.list_jobs(job_status=status, job_name=name)  # bad arguments raise here: 422
    first = await anext(jobs, None)  # AWS errors before the first line still get a status

    async def lines() -> AsyncIterator[str]:
        if first is None:
            return
        yield first.model_dump_json(include=_SUMMARY_FIELDS) + "\n"
        try:
            async for job in jobs:  # the next page is fetched as the client reads
                yield job.model_dump_json(include=_SUMMARY_FIELDS) + "\n"
        except BatchError as exc:  # the status line is sent: report it in the stream
            yield json.dumps(http_error(exc).body) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


_SUMMARY_FIELDS = {"job_id", "job_name", "status", "status_reason", "created_at", "exit_code"}


@router.get("/jobs/{job_id}")
async def get_status(job_id: str, batch: Batch) -> JobView:
    return JobView.of(await batch.get_job_status(job_id))


@router.get("/jobs/{job_id}/wait")
async def wait(
    job_id: str, batch: Batch, timeout: Annotated[float, Query(gt=0, le=300)] = 30
) -> JobView:
    """The job once SUCCEEDED or FAILED; 504 (``WaitTimeoutError``) if it takes longer."""
    return JobView.of(await batch.wait_for(job_id, timeout=timeout, raise_on_failure=False))


@router.post("/jobs/{job_id}/cancel", status_code=202)
async def cancel(
    job_id: str,
    batch: Batch,
    reason: Annotated[str, Query(min_length=1, max_length=1024)] = "cancelled through the API",
) -> dict[str, str]:
    """Stop the job whatever its status (CancelJob alone does nothing to a RUNNING job)."""
    before = await batch.stop_job(job_id, reason)
    return {"job_id": job_id, "status_before": before.status.value}


@router.get("/jobs/{job_id}/explain")
async def explain(job_id: str, batch: Batch) -> dict[str, Any]:
    """Why the job is where it is: ``verdict`` and the ``reasons`` a person can act on."""
    diagnosis = await batch.explain(job_id)
    return {
        "job_id": job_id,
        "status": diagnosis.job.status.value,
        "verdict": diagnosis.verdict.value,
        "reasons": diagnosis.reasons,
        "position": diagnosis.position,
    }


@router.get("/jobs/{job_id}/logs")
async def logs(job_id: str, batch: Batch, follow: bool = False) -> StreamingResponse:
    """The job's log lines as server-sent events (``follow``: until the job ends)."""
    await batch.get_job_status(job_id)  # an unknown job is a 404 before the stream starts
    events = batch.get_logs(job_id, follow=follow)

    async def stream() -> AsyncIterator[str]:
        try:
            async for event in events:
                line = event.model_dump_json(include={"timestamp", "message", "attempt"})
                yield f"event: log\ndata: {line}\n\n"
        except BatchError as exc:  # the status line is sent: report it in the stream
            yield f"event: error\ndata: {json.dumps(http_error(exc).body)}\n\n"
            return
        yield "event: end\ndata: {}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


@router.post("/fanouts", status_code=202)
async def start_fanout(body: FanoutBody, batch: Batch, background: Background) -> dict[str, Any]:
    """Submit now, follow in the background: the answer comes before the jobs finish."""
    jobs = await batch.submit_jobs([job.to_request() for job in body.jobs])
    fanout = background.follow(jobs)
    return {"fanout_id": fanout.fanout_id, "job_ids": fanout.job_ids}


@router.get("/fanouts/{fanout_id}")
async def get_fanout(fanout_id: str, background: Background) -> dict[str, Any]:
    fanout = background.get(fanout_id)
    if fanout is None:
        raise NotFoundError(f"no fan-out {fanout_id!r}")  # {"error", "message"}, as all errors
    return fanout.view()


app = create_app()
