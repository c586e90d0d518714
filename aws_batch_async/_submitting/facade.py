"""Submitting: the part of :class:`~aws_batch_async.BatchService` behind ``submit_job`` and
``submit_jobs`` (and the tagged submits of ``run_job`` and ``resubmit``).

The work is in ``_submitting/submitter.py`` (one submission), ``_submitting/fan_out.py`` (many)
and ``_submitting/definition_cache.py`` (each definition's kind); they load on the first submit.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import NoCredentialsError

from .._config import BatchConfig, SubmitRetry
from .._errors import ConfigurationError, no_credentials_message
from .._models.arguments import check_int, check_retry
from .._models.jobs import JobResponse
from .._transport.clients import Clients

if TYPE_CHECKING:
    from .._models.requests import JobRequest
    from .definition_cache import DefinitionCache, DefinitionInfo
    from .submitter import OnSubmitted, Submission, Submitter

__all__ = ["Submitting"]


class Submitting:
    """Submits the service's jobs, each exactly once, paced by the rate limiter.

    Args:
        clients: The service's clients (every call goes through ``clients.call``).
        config: The service's configuration.
        logger: Where to log.
        note_submitted: Called with the id of every job SubmitJob created (the waits give
            such a job the not-found grace).
        wait_done: Waits until a job is terminal, FAILED included without raising
            (``submit_jobs(max_unfinished=...)``).
    """

    def __init__(
        self,
        clients: Clients,
        config: BatchConfig,
        logger: logging.Logger,
        *,
        note_submitted: Callable[[str], None],
        wait_done: Callable[[str], Awaitable[object]],
    ) -> None:
        self._clients = clients
        self._config = config
        self._logger = logger
        self._note_submitted = note_submitted
        self._wait_done = wait_done
        self._submitter: Submitter | None = None

    @property
    def submitter(self) -> Submitter:
        """Sends SubmitJob exactly once, paced by the rate limiter (created on first use)."""
        if self._submitter is None:
            from .submitter import Submitter

            self._submitter = Submitter(
                self._noting_call, self._config, self._logger, telemetry=self._clients.telemetry
            )
        return self._submitter

    def close(self) -> None:
        """Refuse further sends: submits waiting for a send slot fail at once."""
        if self._submitter is not None:
            self._submitter.close()

    def check(self, request: object, where: str = "request") -> None:
        """The checks of a request that need no call (see ``Submitter.check``).

        Raises:
            TypeError: ``request`` is not a :class:`JobRequest`.
            ValueError: Too many tags for the idempotency token.
        """
        self.submitter.check(request, where)

    async def submit_one(self, request: JobRequest, retry: SubmitRetry | None) -> JobResponse:
        """``BatchService.submit_job``: one request, checked, then submitted exactly once."""
        self.submitter.check(request)
        policy = check_retry(retry)
        submission = await self._prepared(request)
        return await self.submitter.submit(submission, policy)

    async def submit_tagged(self, request: JobRequest, tags: Mapping[str, str]) -> JobResponse:
        """:meth:`submit_one` with extra tags of the library's (reserved prefix).

        The tags are left out when they would take the job past AWS's 50 (a warning says so).
        """
        from .._models.limits import TAGS_MAX

        self.submitter.check(request)
        policy = check_retry(None)
        submission = await self._prepared(request)
        merged = {**submission.params.get("tags", {}), **tags}
        if len(merged) <= TAGS_MAX:
            submission.params["tags"] = merged
        else:
            self._logger.warning(
                "job %s: no room for the library's tags %s (AWS allows %d tags)",
                submission.job_name,
                sorted(tags),
                TAGS_MAX,
            )
        return await self.submitter.submit(submission, policy)

    async def submit_many(
        self,
        requests: Iterable[JobRequest],
        *,
        concurrency: int | None,
        return_exceptions: bool,
        retry: SubmitRetry | None,
        on_submitted: OnSubmitted | None,
        max_unfinished: int | None,
    ) -> list[JobResponse] | list[JobResponse | BaseException]:
        """``BatchService.submit_jobs``: every argument checked, then the fan-out or the cap."""
        _check_many(requests, concurrency, on_submitted)
        policy = check_retry(retry)
        if max_unfinished is not None:  # requests read lazily: _lifecycle/unfinished_cap.py
            check_int(max_unfinished, "max_unfinished", low=1)
            return await self._submit_capped(
                requests, policy, max_unfinished, concurrency, return_exceptions, on_submitted
            )
        from .fan_out import submit_many

        given = list(requests)
        for i, request in enumerate(given):
            self.submitter.check(request, f"requests[{i}]")
        self._clients.batch()
        if not given:
            return []
        infos = await self._definition_infos(given)
        submissions = [
            self.submitter.prepare(request, f"requests[{i}]", info)
            for i, (request, info) in enumerate(zip(given, infos, strict=True))
        ]
        return await submit_many(
            self.submitter,
            submissions,
            policy,
            concurrency=concurrency,
            return_exceptions=return_exceptions,
            on_submitted=on_submitted,
        )

    # -----------------------------------------------------------------------------------------
    # Helpers

    @functools.cached_property
    def _definitions(self) -> DefinitionCache:
        """What each job definition is, one lookup per definition (created on first use)."""
        from .definition_cache import DefinitionCache

        return DefinitionCache(self._clients.call)

    async def _noting_call(self, operation: str, /, **params: Any) -> dict[str, Any]:
        """The service's Batch call, noting the id of every job SubmitJob created."""
        response = await self._clients.call(operation, **params)
        if operation == "SubmitJob":
            job_id = response.get("jobId")
            if isinstance(job_id, str):
                self._note_submitted(job_id)
        return response

    async def _prepared(self, request: JobRequest) -> Submission:
        """One checked request's submission (its definition looked up when needed)."""
        self._clients.batch()
        infos = await self._definition_infos([request])
        return self.submitter.prepare(request, info=infos[0])

    async def _submit_capped(
        self,
        requests: Iterable[JobRequest],
        policy: SubmitRetry,
        max_unfinished: int,
        concurrency: int | None,
        return_exceptions: bool,
        on_submitted: OnSubmitted | None,
    ) -> list[JobResponse | BaseException]:
        """``submit_jobs`` with ``max_unfinished``: see ``_lifecycle/unfinished_cap.py``."""
        from .._lifecycle.unfinished_cap import submit_capped

        self._clients.batch()

        async def prepare(request: JobRequest, where: str) -> Submission:
            self.submitter.check(request, where)
            infos = await self._definition_infos([request])
            return self.submitter.prepare(request, where, infos[0])

        return await submit_capped(
            self.submitter,
            requests,
            policy,
            prepare=prepare,
            wait_done=self._wait_done,
            max_unfinished=max_unfinished,
            concurrency=concurrency,
            return_exceptions=return_exceptions,
            on_submitted=on_submitted,
            logger=self._logger,
        )

    async def _definition_infos(self, requests: list[JobRequest]) -> list[DefinitionInfo | None]:
        """What each request's job definition is (one lookup per definition per service).

        Requests whose kind is given (``JobRequest.kind``, ``BatchConfig.job_definition_kind``)
        and requests without a definition (``prepare`` reports those) need no lookup.
        """
        from .params import job_kind

        cfg = self._config
        try:
            return await self._definitions.infos(
                [
                    None if job_kind(r, cfg) else (r.job_definition or cfg.job_definition)
                    for r in requests
                ]
            )
        except ConfigurationError as exc:
            # The lookup is the first call a submit makes: without credentials, say so about
            # the call the user made, not about DescribeJobDefinitions, which they never did.
            if isinstance(exc.__cause__, NoCredentialsError):
                raise ConfigurationError(no_credentials_message("SubmitJob")) from exc.__cause__
            raise


def _check_many(
    requests: object, concurrency: int | None, on_submitted: OnSubmitted | None
) -> None:
    """``submit_jobs``' checks of its arguments that need no request read."""
    from .._models.requests import JobRequest

    if isinstance(requests, (str, bytes, JobRequest)) or not isinstance(requests, Iterable):
        raise TypeError(
            f"requests must be an iterable of JobRequest, not {type(requests).__name__}"
        )
    if concurrency is not None:
        check_int(concurrency, "concurrency", low=1)
    if on_submitted is not None and not callable(on_submitted):
        raise TypeError("on_submitted must be callable")
