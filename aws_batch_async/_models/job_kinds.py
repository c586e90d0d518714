"""How each kind of job is read: its kind, its platform, and the fields lifted for every kind.

:func:`job_kind` and :func:`platform_of` are the one place a job's or a job definition's kind
and platform are worked out (``JobDetail``, ``JobDefinition`` and the submit path's
``definition_info`` all call them).

These functions prepare a DescribeJobs job (or a ListJobs summary) for validation. They run in
``JobDetail``'s single ``model_validator(mode="before")``, so they work on plain dicts, read
each member once and never change the caller's dict: the poller parses thousands of jobs a
sweep.

Where a lifted field comes from, first found wins:

=================  ===================================================================
kind               ``exit_code`` / ``reason`` / ``log_stream_name``
=================  ===================================================================
container, node    ``container``
ECS properties     the essential container of the task (first ``essential``, else first)
EKS                the pod's main (first) container (no log stream: logs stay in the pod)
any                the last attempt's container, or its task's essential container, or
                   the last EKS attempt's first container
=================  ===================================================================

``status_reason`` is the job's, else the last attempt's (or EKS attempt's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from .job_parts import JobKind
from .limits import RESERVED_TAG_PREFIX
from .raw import FrozenDict, freeze, unwrap

__all__ = [
    "essential",
    "job_kind",
    "lift_attempt",
    "platform_of",
    "prepare_detail",
    "prepare_summary",
]

_LIFTED = (("exitCode", "exit_code"), ("reason", "reason"), ("logStreamName", "log_stream_name"))
_DEPENDENCY_TYPES = ("N_TO_N", "SEQUENTIAL")
_EMPTY: dict[str, Any] = {}
_PLATFORMS = ("FARGATE", "MANAGED_INSTANCES", "EC2")
_MULTINODE, _EKS, _ECS, _CONTAINER = JobKind.MULTINODE, JobKind.EKS, JobKind.ECS, JobKind.CONTAINER


def prepare_detail(data: Any, raw_key: str) -> Any:
    """A DescribeJobs job ready for ``JobDetail``: raw copy, kind, platform, lifted fields.

    Args:
        data: The job as AWS returned it (or keyword arguments given by hand).
        raw_key: The key under which the frozen copy of ``data`` goes.

    Returns:
        A new dict (``data`` is not changed); anything but a mapping is returned as it is.
    """
    if isinstance(data, FrozenDict):  # JobDetail.model_validate(other.raw)
        raw, data = data, unwrap(data)
    elif isinstance(data, dict):
        raw = freeze(data)
    else:
        return data
    get = data.get
    out = {**data, raw_key: raw, "kind": job_kind(data), "platform": platform_of(data)}
    attempts = get("attempts")
    ecs = essential(_task_containers(get("ecsProperties"))) if "ecsProperties" in data else _EMPTY
    if ecs and isinstance(attempts, list):
        # An attempt's task containers do not say which is essential: the job's task does.
        attempts = out["attempts"] = [_ecs_attempt(item, ecs.get("name")) for item in attempts]
    last = _last(attempts)
    last_eks = _last(get("eksAttempts"))
    missing = _lift_from_container(out, data, _dict(get("container")))
    if missing:  # not in the container (or no container): the other kinds, then the attempts
        pod = _dict(_dict(get("eksProperties")).get("podProperties"))
        sources = (
            ecs,
            _first(pod.get("containers")),
            _dict(last.get("container")),
            last,  # an ECS attempt: its essential container's fields, lifted by _ecs_attempt
            essential(_containers_of(last.get("taskProperties"))),
            _first(last_eks.get("containers")),
        )
        _lift_first_found(out, missing, sources)
    if get("statusReason") is None and "status_reason" not in data:
        reason = last.get("statusReason") or last_eks.get("statusReason")
        if reason is not None:
            out["statusReason"] = reason
    tags = data.get("tags")
    if isinstance(tags, dict):
        out["tags"] = {k: v for k, v in tags.items() if not str(k).startswith(RESERVED_TAG_PREFIX)}
    depends_on = data.get("dependsOn")
    if isinstance(depends_on, list):
        out["dependsOn"] = _dependencies(depends_on)
    return out


def _last(items: Any) -> dict[str, Any]:
    """The last of a list of dicts (attempts), or an empty mapping."""
    return _dict(items[-1]) if isinstance(items, list) and items else _EMPTY


def _lift_from_container(
    out: dict[str, Any], data: Mapping[str, Any], container: Mapping[str, Any]
) -> list[str]:
    """Lift the container's fields into ``out``; the keys it lacks (and not given by hand)."""
    missing = []
    for key, name in _LIFTED:
        if key in data or name in data:
            continue  # given by hand
        value = container.get(key)
        if value is None:
            missing.append(key)
        else:
            out[key] = value
    return missing


def _lift_first_found(
    out: dict[str, Any], keys: list[str], sources: tuple[Mapping[str, Any], ...]
) -> None:
    """Lift each of ``keys`` into ``out`` from the first source that has it."""
    for key in keys:
        for source in sources:
            value = source.get(key)
            if value is not None:
                out[key] = value
                break


def prepare_summary(data: Any) -> Any:
    """A ListJobs summary ready for ``JobSummary``: the container's exit code and reason lifted."""
    if not isinstance(data, dict):
        return data
    container = data.get("container")
    if not isinstance(container, dict):
        return data
    out = dict(data)
    for key, name in _LIFTED[:2]:
        if key not in data and name not in data and container.get(key) is not None:
            out[key] = container[key]
    return out


def lift_attempt(data: Any) -> Any:
    """An attempt ready for ``AttemptDetail``: its (essential) container's fields lifted."""
    if not isinstance(data, dict):
        return data
    source = data.get("container")
    if not isinstance(source, dict):
        source = essential(_containers_of(data.get("taskProperties")))
        if not source:
            return data
    out = dict(data)
    for key, name in _LIFTED:
        if key not in data and name not in data and source.get(key) is not None:
            out[key] = source[key]
    return out


def _ecs_attempt(attempt: Any, name: Any) -> Any:
    """An ECS attempt with the fields of its container named ``name`` (the essential one)."""
    if not isinstance(attempt, dict) or isinstance(attempt.get("container"), dict):
        return attempt
    containers = _containers_of(attempt.get("taskProperties"))
    source = next((c for c in containers if name is not None and c.get("name") == name), None)
    if source is None:
        return attempt
    out = dict(attempt)
    for key, field in _LIFTED:
        if key not in attempt and field not in attempt and source.get(key) is not None:
            out[key] = source[key]
    return out


def job_kind(data: Mapping[str, Any]) -> JobKind:
    """What kind of job a job, or the jobs of a job definition, are: from the properties present.

    The one derivation of a kind, for DescribeJobs jobs (``JobDetail``), DescribeJobDefinitions
    entries (``JobDefinition``) and what a submit learns of a definition (``definition_info``).
    A member counts when it is present and not ``None``. ``nodeProperties`` or ``nodeDetails``
    (or a definition's ``type`` of ``"multinode"``: moto leaves its ``nodeProperties`` out)
    make it :attr:`JobKind.MULTINODE`; else ``eksProperties`` :attr:`JobKind.EKS`; else
    ``ecsProperties`` :attr:`JobKind.ECS`; else :attr:`JobKind.CONTAINER`. AWS's camelCase
    names are looked up, and the snake_case ones of a dict built by hand (not in a job that
    has a ``jobId``: that one is AWS's).

    Args:
        data: The job or definition, as AWS returned it or as keyword arguments.

    Returns:
        Its :class:`JobKind`.
    """
    get = data.get
    snake = "jobId" not in data  # a definition, or a job built by hand
    if get("nodeProperties") is not None or get("nodeDetails") is not None:
        return _MULTINODE
    if snake:
        if get("node_properties") is not None or get("node_details") is not None:
            return _MULTINODE
        kind = get("type")  # a definition's
        if kind is not None and str(kind).lower() == "multinode":
            return _MULTINODE
    if get("eksProperties") is not None or (snake and get("eks_properties") is not None):
        return _EKS
    if get("ecsProperties") is not None or (snake and get("ecs_properties") is not None):
        return _ECS
    return _CONTAINER


def platform_of(data: Mapping[str, Any]) -> str | None:
    """The platform ``platformCapabilities`` states, else ``None``.

    ``FARGATE``, then ``MANAGED_INSTANCES``, then ``EC2`` (a job or definition that can run on
    several runs with the most constrained one's limits), else the first other string (a
    platform AWS added later, kept as it is).
    """
    capabilities = data.get("platformCapabilities", data.get("platform_capabilities"))
    if not isinstance(capabilities, (list, tuple)):
        return None
    for known in _PLATFORMS:
        if known in capabilities:
            return known
    return next((c for c in capabilities if isinstance(c, str) and c), None)


def essential(containers: list[dict[str, Any]]) -> dict[str, Any]:
    """The essential container of an ECS task: the first marked essential, else the first."""
    for container in containers:
        if container.get("essential") is True:
            return container
    return containers[0] if containers else _EMPTY


def _task_containers(ecs_properties: Any) -> list[dict[str, Any]]:
    return _containers_of(_dict(ecs_properties).get("taskProperties"))


def _containers_of(tasks: Any) -> list[dict[str, Any]]:
    """The containers of a list of ECS tasks, in order."""
    if not isinstance(tasks, list):
        return []
    found: list[dict[str, Any]] = []
    for task in tasks:
        containers = _dict(task).get("containers")
        if isinstance(containers, list):
            found.extend(c for c in containers if isinstance(c, dict))
    return found


def _dependencies(items: list[Any]) -> list[Any]:
    """AWS's dependencies, each with a job id or SEQUENTIAL (an empty id counts as none)."""
    kept: list[Any] = []
    for item in items:
        if isinstance(item, BaseModel):
            kept.append(item)
            continue
        if not isinstance(item, dict):
            continue
        job_id = item.get("jobId") or None
        kind = item.get("type")
        kind = kind if kind in _DEPENDENCY_TYPES else None
        if job_id is not None or kind == "SEQUENTIAL":
            kept.append({"jobId": job_id, "type": kind})
    return kept


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else _EMPTY


def _first(items: Any) -> dict[str, Any]:
    return _dict(items[0]) if isinstance(items, list) and items else _EMPTY
