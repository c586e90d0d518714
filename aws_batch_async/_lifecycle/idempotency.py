"""``JobRequest(idempotency_key=...)``: one job per key, also across processes and restarts.

A keyed submission carries the tag :data:`KEY_TAG` (``aws-batch-async:idempotency-key``)
and, when the request has no ``job_name``, a name derived from the key
(``<base>-<first 16 hex digits of SHA-256(key)>``), so that a new process finds the job by its
name alone. Before the send, :func:`find_keyed_job` looks the job up: one ListJobs with a
JOB_NAME filter on that name (jobs of every status, newest first), and, only when it lists
candidates, one DescribeJobs of them to match the tag. A match is returned instead of a new
job.

The window is AWS's: ListJobs shows jobs until they age out (about a day after they finish,
as DescribeJobs does), and a job created a moment ago may not be listed yet (eventual
consistency). Within one service, keyed submissions of the same key are serialized and the
jobs they created are remembered, so that window does not matter there.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any, Protocol

from .._config import SubmitRetry
from .._models.jobs import JobResponse
from .._models.limits import RESERVED_TAG_PREFIX, chunked
from .._transport.answers import ANSWER_DAMAGE, damaged_answer, validate_answer
from .._transport.pagination import pages
from .._types import CallFn

__all__ = ["KEY_TAG", "KeyedJobs", "apply_key", "find_keyed_job", "keyed_name", "submit_keyed"]

#: The tag that carries a submission's idempotency key.
KEY_TAG = f"{RESERVED_TAG_PREFIX}idempotency-key"
#: Hex digits of the key's hash in a derived job name.
_NAME_HASH_LEN = 16
#: A lookup reads at most this many ListJobs pages of one name.
_MAX_PAGES = 10
#: How many keys a service remembers the job of.
_REMEMBERED = 10_000


class Submission(Protocol):
    """What this module needs of ``_submit.Submission``."""

    params: dict[str, Any]
    idempotency_key: str | None

    @property
    def job_name(self) -> str: ...

    @property
    def job_queue(self) -> str: ...


class Submitter(Protocol):
    """What this module needs of ``_submit.Submitter``."""

    @property
    def keyed(self) -> KeyedJobs: ...

    @property
    def logger(self) -> logging.Logger: ...

    def call(self, operation: str, /, **params: Any) -> Awaitable[dict[str, Any]]: ...

    async def submit(
        self,
        sub: Any,
        retry: SubmitRetry,
        *,
        before_send: Callable[[], None] | None = ...,
        warn_on_cancel: bool = ...,
    ) -> JobResponse: ...


def apply_key(sub: Submission, key: str, job_name: str | None, base: str | None) -> None:
    """Give a prepared submission its key: the tag, and a name derived from the key if the
    request has none."""
    if job_name is None:
        sub.params["jobName"] = keyed_name(base, key)
    sub.params["tags"] = {**sub.params.get("tags", {}), KEY_TAG: key}
    sub.idempotency_key = key


async def submit_keyed(
    submitter: Submitter,
    sub: Submission,
    retry: SubmitRetry,
    before_send: Callable[[], None] | None,
    warn_on_cancel: bool,
) -> JobResponse:
    """Submit a keyed submission: the job its key already made, else a new one.

    Submissions of one key and queue run one at a time in a service; a job created or found
    is remembered, so the second of two concurrent submissions returns the first one's job
    even before AWS lists it.

    Raises:
        BatchAPIError: The lookup failed (nothing was sent), or as ``Submitter.submit``.
    """
    key = sub.idempotency_key
    assert key is not None
    scope = f"{sub.job_queue}\n{key}"
    async with submitter.keyed.lock(scope):
        job = submitter.keyed.known(scope)
        if job is None:
            job = await find_keyed_job(submitter.call, sub.job_queue, sub.job_name, key)
        if job is not None:
            submitter.logger.info("job %s: submitted before with this idempotency key", job.job_id)
        else:
            sub.idempotency_key = None  # looked up: send it as any other submission
            try:
                job = await submitter.submit(
                    sub, retry, before_send=before_send, warn_on_cancel=warn_on_cancel
                )
            finally:
                sub.idempotency_key = key
        submitter.keyed.remember(scope, job)
        return job


def keyed_name(base: str | None, key: str) -> str:
    """The job name derived from an idempotency key: the same in every process."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:_NAME_HASH_LEN]
    return f"{base or 'job'}-{digest}"


async def find_keyed_job(call: CallFn, queue: str, name: str, key: str) -> JobResponse | None:
    """The job of ``queue`` named ``name`` and tagged with ``key``, or ``None``.

    One ListJobs call per 100 jobs of that name, plus one DescribeJobs per 100 candidates.

    Raises:
        BatchAPIError: ListJobs or DescribeJobs failed, or answered damaged
            (``MalformedResponseError``): the caller must not send then.
    """
    candidates: list[str] = []
    params: dict[str, Any] = {
        "jobQueue": queue,
        "filters": [{"name": "JOB_NAME", "values": [name]}],
        "maxResults": 100,
    }
    async with aclosing(pages(call, "ListJobs", params)) as listing:
        number = 0
        async for page in listing:
            candidates.extend(
                str(s["jobId"])
                for s in page.get("jobSummaryList", [])
                if s.get("jobName") == name and s.get("jobId")
            )
            number += 1
            if number == _MAX_PAGES:
                break
    matches: list[dict[str, Any]] = []
    for chunk in chunked(candidates):
        described = await call("DescribeJobs", jobs=chunk)
        matches.extend(job for job in described.get("jobs", []) if _tagged(job, key))
    if not matches:
        return None
    try:
        matches.sort(key=lambda job: job.get("createdAt") or 0)
    except ANSWER_DAMAGE as exc:
        raise damaged_answer("DescribeJobs", matches, "jobs with a createdAt", exc) from exc
    return validate_answer(JobResponse, matches[0], "DescribeJobs")


def _tagged(job: dict[str, Any], key: str) -> bool:
    """Whether a DescribeJobs job carries the idempotency key ``key``.

    Raises:
        MalformedResponseError: Its ``tags`` are not a map.
    """
    tags = job.get("tags")
    if tags is not None and not isinstance(tags, dict):
        error = TypeError(f"tags are {type(tags).__name__}, not a map")
        raise damaged_answer("DescribeJobs", job, "a job with tags", error) from error
    return tags is not None and tags.get(KEY_TAG) == key


class KeyedJobs:
    """A service's keyed submissions: one at a time per key, and the jobs they made."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._jobs: OrderedDict[str, JobResponse] = OrderedDict()

    def lock(self, key: str) -> asyncio.Lock:
        """The lock of one key (submissions of one key run one at a time)."""
        return self._locks.setdefault(key, asyncio.Lock())

    def known(self, key: str) -> JobResponse | None:
        """The job a submission of this service created for ``key``."""
        return self._jobs.get(key)

    def remember(self, key: str, job: JobResponse) -> None:
        """Remember the job created for ``key``."""
        self._jobs[key] = job
        self._jobs.move_to_end(key)
        while len(self._jobs) > _REMEMBERED:
            oldest, _ = self._jobs.popitem(last=False)
            self._locks.pop(oldest, None)
