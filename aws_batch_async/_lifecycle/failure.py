"""Why a job failed: :class:`FailureKind` and :class:`JobFailure`, classified from AWS's words.

``JobDetail.failure`` and ``AttemptDetail.failure`` call :func:`classify`. It reads the
status reason, every container's reason and the exit code, and takes the first rule that
matches, in this order (the strings are AWS's, from the AWS Batch and Amazon ECS
troubleshooting guides, and the ones Nextflow and Cromwell retry on):

====================  ===================================================================
kind                  what AWS says
====================  ===================================================================
DEPENDENCY_FAILED     status reason ``Dependent Job failed`` (the job never ran)
QUEUE_TIME_LIMIT      a job that never started, FAILED with a status reason the queue's
                      ``jobStateTimeLimitActions`` match (``CAPACITY:...``,
                      ``MISCONFIGURATION:...``, ``ACTION_REQUIRED``, ``UNDETERMINED``)
CANCELLED             ``isCancelled`` / ``isTerminated``, or a reason this library wrote
                      (``run_job`` terminating the job it owns)
TIMEOUT               ``Job attempt duration exceeded timeout``
HOST_TERMINATED       ``Host EC2 (instance i-...) terminated.`` (spot reclaim, scale-in);
                      EKS: the kubelet's ``NodeShutdown`` ("Pod was terminated in
                      response to imminent node shutdown.")
SPOT_INTERRUPTED      ``Your Spot Task was interrupted.`` (Fargate Spot)
OUT_OF_MEMORY         ``OutOfMemoryError: Container killed due to memory usage`` (ECS),
                      ``OOMKilled`` (EKS), or exit code 137 (SIGKILL, the OOM killer's
                      signal) with no other explanation
IMAGE_PULL            ``CannotPullContainerError`` (retryable when the registry throttled:
                      ``toomanyrequests``, ``429``, ``rate exceeded``)
RESOURCE_INIT...      ``ResourceInitializationError`` (retryable when it timed out)
APPLICATION_ERROR     a non-zero exit code (``Essential container in task exited``)
UNKNOWN               anything else
====================  ===================================================================

Sources: docs.aws.amazon.com/batch/latest/userguide/troubleshooting.html ("Spot Instance
reclamation", "Essential container in task exited", "Job attempt duration exceeded
timeout"), .../job_stuck_in_runnable_time_limit_actions.html, Amazon ECS "stopped tasks
errors" (CannotPullContainerError, ResourceInitializationError, OutOfMemoryError, "Your Spot
Task was interrupted."), Nextflow's ``AwsBatchTaskHandler`` and Cromwell's AWS backend
(retry on ``Host EC2*``, exit code 137 as out of memory).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any

from .._models.base import Response
from .._public import publish

__all__ = [
    "RUN_JOB_REASON_PREFIX",
    "FailureKind",
    "JobFailure",
    "attempt_failure",
    "classify",
    "job_failure",
]

#: How the reasons ``run_job`` gives TerminateJob begin, so the failure reads CANCELLED even
#: where AWS's ``isTerminated`` is missing (moto).
RUN_JOB_REASON_PREFIX = "Terminated by aws-batch-async run_job"

_DEPENDENCY = "dependent job failed"
_TIMEOUT = "job attempt duration exceeded timeout"
_HOST = (
    "host ec2",
    "imminent node shutdown",  # the kubelet: "Pod was terminated in response to imminent ..."
    "pod terminated by node shutdown",
    "nodeshutdown",  # the kubelet's pod status reason "NodeShutdown"
)
_SPOT = "your spot task was interrupted"
_OOM = ("outofmemoryerror", "oomkilled", "container killed due to memory usage")
_IMAGE = "cannotpullcontainererror"
_IMAGE_THROTTLED = ("toomanyrequests", "too many requests", "429", "rate exceeded")
_RESOURCE_INIT = "resourceinitializationerror"
_TRANSIENT = ("timeout", "timed out", "deadline exceeded", "rate exceeded", "throttl")
_QUEUE_BLOCKED = ("capacity:", "misconfiguration:", "action_required", "undetermined")
#: The signal the kernel's OOM killer sends (SIGKILL): 128 + 9.
_SIGKILL_EXIT = 137


class FailureKind(str, Enum):
    """What made a job (or an attempt) fail. A ``str`` enum: ``kind == "OUT_OF_MEMORY"``."""

    APPLICATION_ERROR = "APPLICATION_ERROR"
    OUT_OF_MEMORY = "OUT_OF_MEMORY"
    HOST_TERMINATED = "HOST_TERMINATED"
    SPOT_INTERRUPTED = "SPOT_INTERRUPTED"
    IMAGE_PULL = "IMAGE_PULL"
    RESOURCE_INITIALIZATION = "RESOURCE_INITIALIZATION"
    TIMEOUT = "TIMEOUT"
    CANCELLED = "CANCELLED"
    QUEUE_TIME_LIMIT = "QUEUE_TIME_LIMIT"
    DEPENDENCY_FAILED = "DEPENDENCY_FAILED"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value


class JobFailure(Response):
    """Why a job or one of its attempts failed.

    Attributes:
        kind: The :class:`FailureKind`.
        reason: AWS's words that decided it (a status reason or a container's reason).
        exit_code: The exit code, if the container exited.
        attempt: The attempt (0-based), if known.
        retryable: Running the same request again is worth it: the host or the Spot
            capacity went away, or the registry throttled the image pull. False for
            application errors, out of memory (it needs more memory: ``ResubmitPolicy``),
            timeouts and cancellations.
    """

    kind: FailureKind
    reason: str | None = None
    exit_code: int | None = None
    attempt: int | None = None
    retryable: bool = False

    def __str__(self) -> str:
        code = f", exit code {self.exit_code}" if self.exit_code is not None else ""
        why = f": {self.reason}" if self.reason else ""
        return f"{self.kind.value}{why}{code}"


def job_failure(job: Any) -> JobFailure | None:
    """``JobDetail.failure``: the job's failure, ``None`` unless it is FAILED.

    ``job`` is a ``JobDetail`` (not imported: ``_models.jobs`` imports this module).

    Reads the job's status reason and (lifted) exit code, the last attempt's status reason and
    reason, every ECS task container's and EKS pod container's reason, and the last EKS
    attempt's.
    """
    if job.status.value != "FAILED":
        return None
    last = job.attempts[-1] if job.attempts else None
    pod = job.eks_properties.pod_properties if job.eks_properties else None
    reasons = [job.reason, last.status_reason if last else None, last.reason if last else None]
    reasons += [c.reason for c in job.ecs_containers]
    reasons += [c.reason for c in pod.containers] if pod else []
    for eks in job.eks_attempts[-1:]:
        reasons += [eks.status_reason, *(c.reason for c in eks.containers)]
    attempts = len(job.attempts) or len(job.eks_attempts)
    return classify(
        status_reason=job.status_reason,
        reasons=reasons,
        exit_code=job.exit_code,
        attempt=attempts - 1 if attempts else None,
        started=job.started_at is not None or attempts > 0,
        stopped_by_caller=bool(job.is_cancelled or job.is_terminated),
    )


def attempt_failure(attempt: Any) -> JobFailure | None:
    """``AttemptDetail.failure`` (of an ``AttemptDetail``): ``None`` if the attempt has not
    stopped or exited 0."""
    if attempt.exit_code == 0 or (attempt.stopped_at is None and attempt.exit_code is None):
        return None
    reasons = [attempt.reason]
    reasons += [c.reason for task in attempt.task_properties for c in task.containers]
    return classify(
        status_reason=attempt.status_reason,
        reasons=reasons,
        exit_code=attempt.exit_code,
        attempt=attempt.index,
    )


def classify(
    *,
    status_reason: str | None,
    reasons: Iterable[str | None] = (),
    exit_code: int | None = None,
    attempt: int | None = None,
    started: bool = True,
    stopped_by_caller: bool = False,
) -> JobFailure:
    """Classify a failure from what AWS reported (rules in the module docstring).

    Args:
        status_reason: The job's (or attempt's) status reason.
        reasons: The containers' reasons (the main one first).
        exit_code: The (main) container's exit code.
        attempt: The attempt it is about (0-based), if known.
        started: Whether the job ever started (a queue time limit cancels jobs that did not).
        stopped_by_caller: AWS says it was cancelled or terminated (``isCancelled``,
            ``isTerminated``).

    Returns:
        The failure.
    """
    status = (status_reason or "").strip()
    texts = [(text, text.lower()) for text in (status, *(r.strip() for r in reasons if r))]

    def failure(kind: FailureKind, reason: str | None, retryable: bool = False) -> JobFailure:
        return JobFailure(
            kind=kind,
            reason=reason or status or None,
            exit_code=exit_code,
            attempt=attempt,
            retryable=retryable,
        )

    if (hit := _first_mention(texts, _DEPENDENCY)) is not None:
        return failure(FailureKind.DEPENDENCY_FAILED, hit)
    if not started and status.lower().startswith(_QUEUE_BLOCKED):
        return failure(FailureKind.QUEUE_TIME_LIMIT, status)
    if stopped_by_caller or status.startswith(RUN_JOB_REASON_PREFIX):
        return failure(FailureKind.CANCELLED, status)
    for needles, kind, retryable in _BY_REASON:
        if (hit := _first_mention(texts, needles)) is not None:
            return failure(kind, hit, retryable=retryable(hit))
    if exit_code == _SIGKILL_EXIT:
        return failure(FailureKind.OUT_OF_MEMORY, status or "exit code 137 (SIGKILL)")
    if exit_code is not None and exit_code != 0:
        return failure(FailureKind.APPLICATION_ERROR, status)
    return failure(FailureKind.UNKNOWN, status)


def _first_mention(texts: list[tuple[str, str]], needles: str | tuple[str, ...]) -> str | None:
    """The first text (of ``(text, lowered)`` pairs) that contains one of ``needles``."""
    keys = (needles,) if isinstance(needles, str) else needles
    return next((text for text, low in texts if any(k in low for k in keys)), None)


def _never(reason: str) -> bool:
    return False


def _always(reason: str) -> bool:
    return True


def _mentions(words: tuple[str, ...]) -> Callable[[str], bool]:
    return lambda reason: any(k in reason.lower() for k in words)


#: The failures told by AWS's words, after dependencies, queue limits and cancellation, in
#: order: what to look for, the kind, and whether the reason found makes it retryable.
_BY_REASON: tuple[tuple[str | tuple[str, ...], FailureKind, Callable[[str], bool]], ...] = (
    (_TIMEOUT, FailureKind.TIMEOUT, _never),
    (_HOST, FailureKind.HOST_TERMINATED, _always),
    (_SPOT, FailureKind.SPOT_INTERRUPTED, _always),
    (_OOM, FailureKind.OUT_OF_MEMORY, _never),
    (_IMAGE, FailureKind.IMAGE_PULL, _mentions(_IMAGE_THROTTLED)),
    (_RESOURCE_INIT, FailureKind.RESOURCE_INITIALIZATION, _mentions(_TRANSIENT)),
)


publish(__name__)
