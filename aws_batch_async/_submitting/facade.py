"""Submitting: ``submit_job`` and ``submit_jobs``, exactly once, paced by the rate limiter.

A part of :class:`~aws_batch_async.BatchService` (a mixin); the work is in
``_submitting/submitter.py``
(one submission), ``_submitting/fan_out.py`` (many) and ``_submitting/definition_cache.py`` (each
definition's kind). They
load on the first submit.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast, overload

from botocore.exceptions import NoCredentialsError

from .._config import BatchConfig, SubmitRetry
from .._errors import ConfigurationError, no_credentials_message
from .._models.arguments import check_int, check_retry
from .._models.jobs import JobResponse
from .._transport.clients import Clients

if TYPE_CHECKING:
    from .._models.requests import JobRequest
    from .definition_cache import DefinitionCache, DefinitionInfo
    from .submitter import CallFn, OnSubmitted, Submission, Submitter

__all__ = ["SubmittingMixin"]


class _Waits(Protocol):
    """What ``max_unfinished`` needs of the service: ``WaitingMixin.wait_for``."""

    async def wait_for(self, job_id: str, /, *, raise_on_failure: bool) -> Any: ...


class SubmittingMixin:
    """The submitting methods of :class:`~aws_batch_async.BatchService`."""

    config: BatchConfig
    logger: logging.Logger
    _clients: Clients
    _submit_call: Callable[[], CallFn]  # WaitingMixin's: the call that notes new job ids

    @functools.cached_property
    def _submitter(self) -> Submitter:
        """Sends SubmitJob exactly once, paced by the rate limiter (created on first use)."""
        from .submitter import Submitter

        return Submitter(
            self._submit_call(), self.config, self.logger, telemetry=self._clients.telemetry
        )

    @functools.cached_property
    def _definitions(self) -> DefinitionCache:
        """What each job definition is, one lookup per definition (created on first use)."""
        from .definition_cache import DefinitionCache

        return DefinitionCache(self._clients.call)

    async def submit_job(
        self, request: JobRequest, *, retry: SubmitRetry | None = None
    ) -> JobResponse:
        """Submit one job, exactly once, paced by the service's rate limiter.

        botocore never retries SubmitJob; this method does, safely: a send whose outcome is
        unknown (a 5xx, a lost or damaged answer, a call past ``BatchConfig.call_timeout``) is
        looked up (by name and by a hidden token tag, which needs ``batch:TagResource``) before
        it is sent again; one that found no connection is re-sent a few times without lookups.
        See ``docs/reliability.md``.
        Cancelling the call while a send is under way may leave a created job behind; a
        warning names it.

        Args:
            request: The job; the config supplies the queue, definition and retry attempts it
                does not set.
            retry: The submission's retry budget; :class:`SubmitRetry` defaults if omitted.

        Returns:
            The new job's id, name and ARN.

        Raises:
            TypeError: ``request`` is not a :class:`JobRequest`.
            ValueError: 50 tags while ``idempotent_submit`` is on (the token takes one).
            ConfigurationError: No job queue or definition is configured, or credentials
                cannot be found or refreshed (nothing was sent).
            ThrottlingError: AWS kept throttling beyond the retry budget.
            BatchAPIError: AWS rejected the job, or kept failing and no job was created.
            BatchConnectionError: The connection kept failing and no job was created (``sent``
                is False when the endpoint could not be reached at all).
            SubmitOutcomeUnknownError: Whether the job was created could not be established.
            ServiceClosedError: The service is not open.
        """
        self._submitter.check(request)
        policy = check_retry(retry)
        self._clients.batch()
        infos = await self._definition_infos([request])
        submission = self._submitter.prepare(request, info=infos[0])
        return await self._submitter.submit(submission, policy)

    @overload
    async def submit_jobs(
        self,
        requests: Iterable[JobRequest],
        *,
        concurrency: int | None = None,
        return_exceptions: Literal[False] = False,
        retry: SubmitRetry | None = None,
        on_submitted: OnSubmitted | None = None,
        max_unfinished: int | None = None,
    ) -> list[JobResponse]: ...

    @overload
    async def submit_jobs(
        self,
        requests: Iterable[JobRequest],
        *,
        concurrency: int | None = None,
        return_exceptions: bool,
        retry: SubmitRetry | None = None,
        on_submitted: OnSubmitted | None = None,
        max_unfinished: int | None = None,
    ) -> list[JobResponse | BaseException]: ...

    async def submit_jobs(
        self,
        requests: Iterable[JobRequest],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = False,
        retry: SubmitRetry | None = None,
        on_submitted: OnSubmitted | None = None,
        max_unfinished: int | None = None,
    ) -> list[JobResponse] | list[JobResponse | BaseException]:
        """Submit many jobs, each exactly once (see :meth:`submit_job`), in request order.

        Every request is validated before the first call. If a submission fails (without
        ``return_exceptions``) no further job is sent, those under way finish, and
        :class:`SubmitJobsError` lists what was created. If the call is cancelled (however
        often, an anyio cancel scope included), no further job is sent, the sends under way are
        finished, and one warning names every job created, with its id, and those in doubt.

        Args:
            requests: The jobs.
            concurrency: At most this many submissions under way at once (``None``: the
                rate limiter and the pool decide).
            return_exceptions: Put a failed submission's error in its slot and submit every
                other job, like :func:`asyncio.gather`.
            retry: Each submission's retry budget.
            on_submitted: Called with ``(index, job)`` as each job is created (errors it
                raises are logged).
            max_unfinished: Keep at most this many of these jobs unfinished at any time: the
                next request is read from ``requests`` (lazily: a generator of 100,000 is
                fine) and submitted when the shared poller sees an earlier job SUCCEEDED or
                FAILED. Each request is then checked when it is reached, not all up front.
                The call returns once the last job is submitted (see
                ``docs/arrays-and-definitions.md``).

        Returns:
            One entry per request, in order: the :class:`JobResponse`, or with
            ``return_exceptions`` the error of a failed submission.

        Raises:
            TypeError: ``requests`` is not an iterable of :class:`JobRequest`, or a bad
                ``concurrency``/``on_submitted``.
            ValueError: ``concurrency`` or ``max_unfinished`` below 1, or a request has too
                many tags.
            ConfigurationError: No job queue or job definition is configured.
            SubmitJobsError: A submission failed (without ``return_exceptions``).
            ServiceClosedError: The service is not open.
        """
        from .._models.requests import JobRequest
        from .fan_out import submit_many

        given: object = requests
        if isinstance(given, (str, bytes, JobRequest)) or not isinstance(given, Iterable):
            raise TypeError(
                f"requests must be an iterable of JobRequest, not {type(given).__name__}"
            )
        if concurrency is not None:
            check_int(concurrency, "concurrency", low=1)
        if on_submitted is not None and not callable(on_submitted):
            raise TypeError("on_submitted must be callable")
        policy = check_retry(retry)
        if max_unfinished is not None:  # requests read lazily: _unfinished_cap.py
            check_int(max_unfinished, "max_unfinished", low=1)
            return await self._submit_capped(
                requests, policy, max_unfinished, concurrency, return_exceptions, on_submitted
            )
        given_requests = list(requests)
        for i, request in enumerate(given_requests):
            self._submitter.check(request, f"requests[{i}]")
        self._clients.batch()
        if not given_requests:
            return []
        infos = await self._definition_infos(given_requests)
        submissions = [
            self._submitter.prepare(request, f"requests[{i}]", info)
            for i, (request, info) in enumerate(zip(given_requests, infos, strict=True))
        ]
        return await submit_many(
            self._submitter,
            submissions,
            policy,
            concurrency=concurrency,
            return_exceptions=return_exceptions,
            on_submitted=on_submitted,
        )

    # -- submitting with the library's own tags (run_job, resubmit: ``_lifecycle/run_job.py``) -----

    async def _submit_tagged(self, request: JobRequest, tags: Mapping[str, str]) -> JobResponse:
        """:meth:`submit_job` with extra tags of the library's (reserved prefix).

        The tags are left out when they would take the job past AWS's 50 (a warning says so).
        """
        from .._models.limits import TAGS_MAX

        self._submitter.check(request)
        policy = check_retry(None)
        self._clients.batch()
        infos = await self._definition_infos([request])
        submission = self._submitter.prepare(request, info=infos[0])
        merged = {**submission.params.get("tags", {}), **tags}
        if len(merged) <= TAGS_MAX:
            submission.params["tags"] = merged
        else:
            self.logger.warning(
                "job %s: no room for the library's tags %s (AWS allows %d tags)",
                submission.job_name,
                sorted(tags),
                TAGS_MAX,
            )
        return await self._submitter.submit(submission, policy)

    # -- submit_jobs(max_unfinished=N): ``_lifecycle/unfinished_cap.py`` ---------------------------

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
            self._submitter.check(request, where)
            infos = await self._definition_infos([request])
            return self._submitter.prepare(request, where, infos[0])

        async def wait_done(job_id: str) -> object:
            return await cast("_Waits", self).wait_for(job_id, raise_on_failure=False)

        return await submit_capped(
            self._submitter,
            requests,
            policy,
            prepare=prepare,
            wait_done=wait_done,
            max_unfinished=max_unfinished,
            concurrency=concurrency,
            return_exceptions=return_exceptions,
            on_submitted=on_submitted,
            logger=self.logger,
        )

    async def _definition_infos(self, requests: list[JobRequest]) -> list[DefinitionInfo | None]:
        """What each request's job definition is (one lookup per definition per service).

        Requests whose kind is given (``JobRequest.kind``, ``BatchConfig.job_definition_kind``)
        and requests without a definition (``prepare`` reports those) need no lookup.
        """
        from .params import job_kind

        cfg = self.config
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
