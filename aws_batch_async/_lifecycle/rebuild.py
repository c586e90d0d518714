"""A :class:`JobRequest` rebuilt from a job's details: what ``resubmit`` sends again.

DescribeJobs shows a job as it ran: the definition's settings merged with the overrides it was
submitted with. :func:`request_of` turns that back into a request for the same definition
revision, carrying as overrides what the job ran with:

=================  ===================================================================
kind               rebuilt
=================  ===================================================================
every kind         queue, definition (ARN, revision), name, parameters, tags (without
                   the library's own), array size, dependencies, timeout, retry
                   strategy, scheduling priority, share identifier, propagate tags
container          command, environment, vCPUs / memory / GPUs
ECS properties     the essential container's as the neutral fields (``container`` names
                   it), every other container's as ``ecs_containers``
EKS                the main container's command, environment and resources; the other
                   containers' as ``eks.containers``
multi-node         ``num_nodes``, each node range's command and environment
                   (``node_overrides``), the largest node range's resources
=================  ===================================================================

Environment names starting with ``AWS_BATCH`` are AWS's (reserved on submit) and are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._infrastructure.instance_types import requested_resources
from .._models.jobs import JobDetail
from .._models.raw import FrozenDict, unwrap
from .._models.requests import EvaluateOnExit, JobRequest

__all__ = ["request_of"]

_RESERVED_ENV = "AWS_BATCH"


def request_of(job: JobDetail) -> JobRequest:
    """Rebuild the request that would submit ``job`` again (see the module docstring).

    Args:
        job: The job, as DescribeJobs describes it (``raw`` is read for the environment).

    Returns:
        The request; its ``job_name`` is the job's.
    """
    raw: Mapping[str, Any] = unwrap(job.raw) if isinstance(job.raw, FrozenDict) else job.raw
    fields: dict[str, Any] = {
        "job_name": job.job_name,
        "job_queue": job.job_queue,
        "job_definition": job.job_definition,
        "parameters": dict(job.parameters) or None,
        "tags": dict(job.tags) or None,
        "share_identifier": job.share_identifier,
        "scheduling_priority": job.scheduling_priority,
        "propagate_tags": job.propagate_tags,
    }
    if job.is_array_parent and job.array_properties is not None:
        fields["array_size"] = job.array_properties.size
    if job.depends_on:
        fields["depends_on"] = list(job.depends_on)
    if job.timeout is not None and job.timeout.attempt_duration_seconds:
        fields["timeout_seconds"] = max(job.timeout.attempt_duration_seconds, 60)
    if job.retry_strategy is not None:
        fields["retry_attempts"] = job.retry_strategy.attempts
        rules = [
            EvaluateOnExit.model_validate(rule.model_dump(exclude_none=True))
            for rule in job.retry_strategy.evaluate_on_exit
            if rule.action
        ]
        fields["evaluate_on_exit"] = rules or None
    resources = requested_resources(raw)
    fields.update(vcpus=resources.vcpus, memory_mib=_int(resources.memory_mib))
    fields["gpus"] = _int(resources.gpus) if resources.gpus else None
    kind = job.kind.value
    if kind == "ECS":
        fields.update(_ecs(raw))
    elif kind == "EKS":
        fields.update(_eks(raw))
    elif kind == "MULTINODE":
        fields.update(_nodes(job, raw))
    else:
        container = _dict(raw.get("container"))
        fields["command"] = list(container.get("command") or []) or None
        fields["env_vars"] = _environment(container.get("environment"))
    return JobRequest.model_validate({k: v for k, v in fields.items() if v is not None})


def _ecs(raw: Mapping[str, Any]) -> dict[str, Any]:
    from .._models.job_kinds import essential

    tasks = _dict(raw.get("ecsProperties")).get("taskProperties") or []
    containers = [c for t in tasks for c in (_dict(t).get("containers") or []) if _dict(c)]
    main = essential(containers)
    if not main:
        return {}
    others = []
    for c in containers:
        if c is main or not c.get("name"):
            continue
        found = requested_resources({"container": c})
        others.append(
            {
                "name": c["name"],
                "command": list(c.get("command") or []) or None,
                "env_vars": _environment(c.get("environment")),
                "vcpus": found.vcpus,
                "memory_mib": _int(found.memory_mib),
            }
        )
    found = requested_resources({"container": main})
    return {
        "container": main.get("name"),
        "command": list(main.get("command") or []) or None,
        "env_vars": _environment(main.get("environment")),
        "vcpus": found.vcpus,
        "memory_mib": _int(found.memory_mib),
        "ecs_containers": [{k: v for k, v in o.items() if v is not None} for o in others] or None,
    }


def _eks(raw: Mapping[str, Any]) -> dict[str, Any]:
    pod = _dict(_dict(raw.get("eksProperties")).get("podProperties"))
    containers = [c for c in pod.get("containers") or [] if _dict(c)]
    if not containers:
        return {}
    main, others = containers[0], containers[1:]

    def env(container: Mapping[str, Any]) -> dict[str, str] | None:
        return _environment(container.get("env"))

    rest = [
        {
            k: v
            for k, v in {
                "name": c.get("name"),
                "command": list(c.get("command") or []) or None,
                "args": list(c.get("args") or []) or None,
                "env_vars": env(c),
                "limits": _dict(_dict(c.get("resources")).get("limits")) or None,
                "requests": _dict(_dict(c.get("resources")).get("requests")) or None,
            }.items()
            if v is not None
        }
        for c in others
        if c.get("name")
    ]
    fields: dict[str, Any] = {
        "container": main.get("name"),
        "command": list(main.get("command") or []) or None,
        "env_vars": env(main),
    }
    if rest:
        fields["eks"] = {"containers": rest}
    return fields


def _nodes(job: JobDetail, raw: Mapping[str, Any]) -> dict[str, Any]:
    props = _dict(raw.get("nodeProperties"))
    ranges = []
    for item in props.get("nodeRangeProperties") or []:
        item = _dict(item)
        target = item.get("targetNodes")
        container = _dict(item.get("container"))
        if not target:
            continue
        override = {
            "target_nodes": target,
            "command": list(container.get("command") or []) or None,
            "env_vars": _environment(container.get("environment")),
        }
        override = {k: v for k, v in override.items() if v is not None}
        if len(override) > 1:
            ranges.append(override)
    num_nodes = job.node_properties.num_nodes if job.node_properties else None
    return {"num_nodes": num_nodes, "node_overrides": ranges or None}


def _environment(items: Any) -> dict[str, str] | None:
    if not isinstance(items, list):
        return None
    env = {
        str(i["name"]): str(i.get("value", ""))
        for i in items
        if isinstance(i, Mapping) and i.get("name") and not str(i["name"]).startswith(_RESERVED_ENV)
    }
    return env or None


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
