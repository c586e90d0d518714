"""Resubmitting with changes: :class:`ResubmitPolicy` and the changes the library ships.

A change is a function ``JobRequest -> JobRequest`` (or ``None``: do not resubmit). AWS's own
retry strategy runs the next attempt with the same resources and queue; a resubmission is a
new job, so it can ask for more memory or go to another queue. ``run_job(resubmit=policy)``
applies the change named by the failure's :class:`~aws_batch_async.FailureKind`; the
rationale and a worked example are in ``docs/lifecycle.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._public import publish
from .failure import FailureKind

if TYPE_CHECKING:
    from .._models.requests import JobRequest

__all__ = [
    "Change",
    "ResubmitPolicy",
    "scale_memory",
    "scale_vcpus",
    "to_queue",
    "with_env",
]

#: How a failed job's request becomes the next one; ``None`` means "do not resubmit".
Change = Callable[["JobRequest"], "JobRequest | None"]

#: The most jobs one ``run_job`` may submit in all.
MAX_ATTEMPTS = 100


def _unchanged(request: JobRequest) -> JobRequest:
    return request


@dataclass(frozen=True)
class ResubmitPolicy:
    """Which failures ``run_job`` resubmits, and how each changes the request.

    Example::

        ResubmitPolicy(
            max_attempts=3,
            on={
                FailureKind.OUT_OF_MEMORY: scale_memory(2.0, max_mib=65_536),
                FailureKind.HOST_TERMINATED: to_queue("on-demand"),
            },
        )

    Args:
        max_attempts: Jobs submitted in all, the first one included (1..100).
        on: The failure kinds to resubmit, each with its change (``None``: resubmit the
            same request).

    Raises:
        TypeError: A key is not a failure kind, or a change is not callable.
        ValueError: ``max_attempts`` is out of range, or a key is not a kind's name.
    """

    max_attempts: int = 3
    on: Mapping[FailureKind, Change | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise TypeError("max_attempts must be an int")
        if not 1 <= self.max_attempts <= MAX_ATTEMPTS:
            raise ValueError(f"max_attempts must be between 1 and {MAX_ATTEMPTS}")
        if not isinstance(self.on, Mapping):
            raise TypeError("on must be a mapping of FailureKind to a change")
        checked: dict[FailureKind, Change | None] = {}
        for kind, change in self.on.items():
            if not isinstance(kind, str):
                raise TypeError(f"on's keys must be FailureKind, not {type(kind).__name__}")
            if change is not None and not callable(change):
                raise TypeError(f"the change for {kind} must be callable")
            checked[FailureKind(kind)] = change
        object.__setattr__(self, "on", checked)

    def change_for(self, kind: FailureKind) -> Change | None:
        """The change for ``kind``, the identity if the policy resubmits it unchanged, or
        ``None`` if the policy does not resubmit it."""
        if kind not in self.on:
            return None
        return self.on[kind] or _unchanged


def scale_memory(factor: float, *, max_mib: int | None = None) -> Change:
    """A change that multiplies the request's memory (rounded up to a whole MiB).

    ``run_job`` fills in the memory the failed job had when the request did not set it.

    Args:
        factor: The multiplier, above 1.
        max_mib: The most memory to ask for; once the memory is there, the change returns
            ``None`` (no resubmission).

    Returns:
        The change.

    Raises:
        ValueError: ``factor`` is not above 1, or ``max_mib`` is below 4.
    """
    _check_factor(factor)
    if max_mib is not None and max_mib < 4:
        raise ValueError("max_mib must be at least 4")

    def change(request: JobRequest) -> JobRequest | None:
        if request.memory_mib is None:
            raise ValueError("scale_memory: the request sets no memory and none is known")
        memory = math.ceil(request.memory_mib * factor)
        if max_mib is not None:
            memory = min(memory, max_mib)
        if memory <= request.memory_mib:
            return None
        return request.model_copy(update={"memory_mib": memory})

    return change


def scale_vcpus(factor: float, *, max_vcpus: float | None = None) -> Change:
    """A change that multiplies the request's vCPUs (rounded up to a quarter vCPU).

    Args:
        factor: The multiplier, above 1.
        max_vcpus: The most vCPUs to ask for; once there, the change returns ``None``.

    Returns:
        The change.

    Raises:
        ValueError: ``factor`` is not above 1, or ``max_vcpus`` is not positive.
    """
    _check_factor(factor)
    if max_vcpus is not None and max_vcpus <= 0:
        raise ValueError("max_vcpus must be positive")

    def change(request: JobRequest) -> JobRequest | None:
        if request.vcpus is None:
            raise ValueError("scale_vcpus: the request sets no vCPUs and none are known")
        vcpus = math.ceil(request.vcpus * factor * 4) / 4
        if max_vcpus is not None:
            vcpus = min(vcpus, max_vcpus)
        if vcpus <= request.vcpus:
            return None
        return request.model_copy(update={"vcpus": vcpus})

    return change


def to_queue(job_queue: str) -> Change:
    """A change that sends the job to another queue (name or ARN).

    Args:
        job_queue: The queue.

    Returns:
        The change.

    Raises:
        ValueError: ``job_queue`` is empty.
    """
    if not isinstance(job_queue, str) or not job_queue:
        raise ValueError("job_queue must be a non-empty string")

    def change(request: JobRequest) -> JobRequest:
        return request.model_copy(update={"job_queue": job_queue})

    return change


def with_env(env_vars: Mapping[str, str]) -> Change:
    """A change that sets environment variables (over those the request sets).

    Args:
        env_vars: Names and values (values are never logged).

    Returns:
        The change.

    Raises:
        ValueError: A name is reserved by AWS (``AWS_BATCH...``) or empty.
    """
    from .._models.overrides import check_env_names

    given = dict(env_vars)
    check_env_names(given)

    def change(request: JobRequest) -> JobRequest:
        return request.model_copy(update={"env_vars": {**(request.env_vars or {}), **given}})

    return change


def _check_factor(factor: float) -> None:
    if isinstance(factor, bool) or not isinstance(factor, (int, float)):
        raise TypeError("factor must be a number")
    if not factor > 1 or math.isinf(factor):
        raise ValueError("factor must be above 1")


publish(__name__)
