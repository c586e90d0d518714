"""AWS's enumerations, open: a value AWS adds tomorrow parses today, kept as its string.

Every enum parsed from an AWS answer derives from :class:`OpenEnum`. Looking up a value it
does not list (``JobStatus("SCHEDULED")``, or pydantic parsing an answer) never raises: it gives
a *pseudo-member* whose value and name are the string, which compares equal to the string, is
hashed like it, prints as it and reports ``is_known`` false. Pseudo-members are never listed
(``list(JobStatus)`` is what the library knows) and each value makes one pseudo-member per
process (so ``is`` works; up to :data:`PSEUDO_MEMBERS_MAX` values per enum), logged once at
WARNING (logger ``aws_batch_async``). Anything but a string still fails validation.

Values given *to* the library (requests, configuration) must be known: :meth:`OpenEnum.known`
and :func:`known_only` refuse a value that is not listed, without making a pseudo-member.

The members are pinned in code; ``tests/models/test_aws_model.py`` checks them against botocore's
model (``docs/aws-model.md``).
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any, TypeVar

from pydantic import BeforeValidator

from .._public import publish

__all__ = [
    "AllocationStrategy",
    "ComputeEnvironmentType",
    "ComputeResourceType",
    "JobDefinitionType",
    "JobQueueType",
    "OpenEnum",
    "OrchestrationType",
    "Platform",
    "ResourceState",
    "ResourceStatus",
    "known_only",
]

_logger = logging.getLogger("aws_batch_async")

#: At most this many pseudo-members are kept (and logged) per enum; beyond, each lookup of a new
#: value makes a fresh one (equal, not identical) and logs nothing: answers full of made-up
#: values cannot grow memory or the log without bound.
PSEUDO_MEMBERS_MAX = 1024

_E = TypeVar("_E", bound="OpenEnum")


class OpenEnum(str, Enum):
    """A ``str`` enum that keeps values it does not list (see the module docstring)."""

    def __str__(self) -> str:
        return str(self.value)

    @property
    def is_known(self) -> bool:
        """True for a listed member; false for a value this version of the library lacks."""
        return type(self).__members__.get(self._name_) is self

    @classmethod
    def known(cls: type[_E], value: str) -> _E:
        """The listed member of ``value``; never a pseudo-member (for values users give).

        Raises:
            ValueError: Not a listed value.
        """
        member = cls._value2member_map_.get(value)
        if not isinstance(member, cls) or not member.is_known:
            allowed = ", ".join(m.value for m in cls)
            raise ValueError(f"{str(value)[:100]!r} is not one of {allowed}")
        return member

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        pseudo = _PSEUDO_MEMBERS.setdefault(cls, {})
        found = pseudo.get(value)
        if found is not None:
            return found
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        if len(pseudo) < PSEUDO_MEMBERS_MAX:
            pseudo[value] = member
            _logger.warning(
                "%s %r is not a value aws-batch-async knows (AWS added it?); kept as its string",
                cls.__name__,
                value[:100],
            )
        return member


#: The pseudo-members made so far, by enum and value (kept apart from the enum's own tables, so
#: ``value in Enum`` and lookups of listed values see the listed members only).
_PSEUDO_MEMBERS: dict[type[OpenEnum], dict[str, OpenEnum]] = {}


def known_only(enum: type[OpenEnum]) -> BeforeValidator:
    """A validator for fields users fill: only ``enum``'s listed values (or members) pass.

    ``Annotated[Platform, known_only(Platform)]`` takes ``"FARGATE"`` or ``Platform.FARGATE``
    and refuses ``"FARGATE_TYPO"`` without making a pseudo-member of it.

    Args:
        enum: The open enum.

    Returns:
        The ``BeforeValidator``.
    """

    def check(value: Any) -> Any:
        if isinstance(value, str):
            enum.known(value)  # raises ValueError
        return value

    return BeforeValidator(check)


class Platform(OpenEnum):
    """Where a job runs (AWS's ``PlatformCapability``)."""

    EC2 = "EC2"
    FARGATE = "FARGATE"
    MANAGED_INSTANCES = "MANAGED_INSTANCES"


class ResourceState(OpenEnum):
    """Whether a job queue or compute environment takes work (``JQState``, ``CEState``)."""

    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class ResourceStatus(OpenEnum):
    """The life of a job queue or compute environment (``JQStatus``, ``CEStatus``)."""

    CREATING = "CREATING"
    UPDATING = "UPDATING"
    DELETING = "DELETING"
    DELETED = "DELETED"
    VALID = "VALID"
    INVALID = "INVALID"


class JobQueueType(OpenEnum):
    """What a job queue schedules onto (``JobQueueType``)."""

    EKS = "EKS"
    ECS = "ECS"
    ECS_FARGATE = "ECS_FARGATE"
    SAGEMAKER_TRAINING = "SAGEMAKER_TRAINING"
    ECS_MANAGED_INSTANCES = "ECS_MANAGED_INSTANCES"


class ComputeEnvironmentType(OpenEnum):
    """Who manages a compute environment's instances (``CEType``)."""

    MANAGED = "MANAGED"
    UNMANAGED = "UNMANAGED"


class ComputeResourceType(OpenEnum):
    """What a managed compute environment launches (``CRType``)."""

    EC2 = "EC2"
    SPOT = "SPOT"
    FARGATE = "FARGATE"
    FARGATE_SPOT = "FARGATE_SPOT"
    ECS_MANAGED_INSTANCES = "ECS_MANAGED_INSTANCES"


class AllocationStrategy(OpenEnum):
    """How a managed compute environment picks instances (``CRAllocationStrategy``)."""

    BEST_FIT = "BEST_FIT"
    BEST_FIT_PROGRESSIVE = "BEST_FIT_PROGRESSIVE"
    BEST_FIT_PROGRESSIVE_ORDERED = "BEST_FIT_PROGRESSIVE_ORDERED"
    SPOT_CAPACITY_OPTIMIZED = "SPOT_CAPACITY_OPTIMIZED"
    SPOT_PRICE_CAPACITY_OPTIMIZED = "SPOT_PRICE_CAPACITY_OPTIMIZED"
    SPOT_CAPACITY_OPTIMIZED_PRIORITIZED = "SPOT_CAPACITY_OPTIMIZED_PRIORITIZED"


class OrchestrationType(OpenEnum):
    """The orchestrator of a compute environment or job definition (``OrchestrationType``)."""

    ECS = "ECS"
    EKS = "EKS"


class JobDefinitionType(OpenEnum):
    """AWS's own type of a job definition (``JobDefinitionType``)."""

    CONTAINER = "container"
    MULTINODE = "multinode"


publish(__name__)
