"""How DescribeJobs shows EKS and ECS-properties jobs that moto ran as container jobs.

moto describes such a job with a ``container`` (its exit code, reason and log stream, as the
LocalBatch bridge completes them) and ``attempts[].container``. AWS shows instead:

* an EKS job: ``eksProperties.podProperties`` (``podName``, ``nodeName`` once the pod exists,
  ``containers[]`` and ``initContainers[]`` with the submit's override applied, ``metadata``;
  the main container with its ``exitCode`` and ``reason``), ``eksAttempts[]`` (one per
  finished attempt: ``containers[]`` with the main container's exit code and reason,
  ``podName``, ``podNamespace``, ``nodeName``, ``eksClusterArn``, ``startedAt``, ``stoppedAt``,
  ``statusReason``), empty ``attempts``, no ``container`` and no log stream;
* an ECS-properties job: ``ecsProperties.taskProperties[0].containers[]`` (every container of
  the task by name, override applied; the one that ran with its ``exitCode``, ``reason`` and
  ``logStreamName``), ``attempts[].taskProperties[0].containers[]`` (one per finished
  attempt, the container that ran) and no ``container``.

Only one container runs (the pod's main one, the task's essential one); the others are shown
as defined, with no exit code and no log stream.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["NODE_NAME", "Definition", "apply_container_override", "present_ecs", "present_eks"]

#: The Kubernetes node every LocalBatch pod "runs" on.
NODE_NAME = "ip-127-0-0-1.local-batch.internal"
_DEFAULT_NAMESPACE = "default"
_STARTED = frozenset({"STARTING", "RUNNING", "SUCCEEDED", "FAILED"})
_RESULT = ("exitCode", "reason")


@dataclass(frozen=True)
class Definition:
    """An emulated job definition as registered.

    Attributes:
        kind: ``"EKS"`` or ``"ECS"``.
        properties: Its ``eksProperties`` or ``ecsProperties``.
        main_index: The index of the container that runs.
        shadow: The ``containerProperties`` moto got for it.
    """

    kind: Literal["EKS", "ECS"]
    properties: dict[str, Any]
    main_index: int
    shadow: dict[str, Any]

    @property
    def member(self) -> str:
        """``eksProperties`` or ``ecsProperties``."""
        return "eksProperties" if self.kind == "EKS" else "ecsProperties"

    @property
    def override_member(self) -> str:
        """``eksPropertiesOverride`` or ``ecsPropertiesOverride``."""
        return self.member + "Override"

    @property
    def _holder(self) -> dict[str, Any]:
        if self.kind == "EKS":
            return dict(self.properties.get("podProperties") or {})
        tasks = self.properties.get("taskProperties") or [{}]
        return dict(tasks[0])

    @property
    def containers(self) -> list[dict[str, Any]]:
        """The pod's or task's containers, in order."""
        return list(self._holder.get("containers") or [])

    @property
    def init_containers(self) -> list[dict[str, Any]]:
        """The pod's init containers (none for a task)."""
        return list(self._holder.get("initContainers") or [])

    @property
    def main_container(self) -> dict[str, Any]:
        """The container that runs."""
        return dict(self.containers[self.main_index])


def present_eks(job: dict[str, Any], definition: Definition, override: dict[str, Any]) -> None:
    """Show ``job`` as AWS shows an EKS job (in place)."""
    ran = job.pop("container", None) or {}
    attempts = [a for a in job.get("attempts") or [] if isinstance(a, dict)]
    pod = copy.deepcopy(dict(definition.properties.get("podProperties") or {}))
    given = override.get("podProperties") or {}
    pod["containers"] = _merged(pod.get("containers"), given.get("containers"), _eks_container)
    if pod.get("initContainers") or given.get("initContainers"):
        pod["initContainers"] = _merged(
            pod.get("initContainers"), given.get("initContainers"), _eks_container
        )
    metadata = _metadata(pod.get("metadata"), given.get("metadata"))
    if metadata:
        pod["metadata"] = metadata
    main = pod["containers"][definition.main_index]
    main.update({k: ran[k] for k in _RESULT if ran.get(k) is not None})
    job_id = str(job.get("jobId", ""))
    pod_name = "aws-batch." + str(uuid.uuid5(uuid.NAMESPACE_URL, job_id))
    if job.get("status") in _STARTED and attempts:
        pod["podName"] = pod_name
        pod["nodeName"] = NODE_NAME
    job["eksProperties"] = {"podProperties": pod}
    namespace = metadata.get("namespace") or _DEFAULT_NAMESPACE
    cluster = _cluster_arn(str(job.get("jobArn", "")))
    job["eksAttempts"] = [
        {
            "containers": [
                {
                    **({"name": main["name"]} if main.get("name") else {}),
                    **{k: v for k, v in (a.get("container") or {}).items() if k in _RESULT},
                }
            ],
            "podName": pod_name,
            "podNamespace": namespace,
            "nodeName": NODE_NAME,
            "eksClusterArn": cluster,
            **{k: a[k] for k in ("startedAt", "stoppedAt", "statusReason") if k in a},
        }
        for a in attempts
        if a.get("stoppedAt")
    ]
    job["attempts"] = []


def present_ecs(job: dict[str, Any], definition: Definition, override: dict[str, Any]) -> None:
    """Show ``job`` as AWS shows an ECS-properties job (in place)."""
    ran = job.pop("container", None) or {}
    task = copy.deepcopy(dict((definition.properties.get("taskProperties") or [{}])[0]))
    given = override.get("taskProperties") or [{}]
    own = given[0].get("containers") if isinstance(given[0], dict) else None
    task["containers"] = _merged(task.get("containers"), own, apply_container_override)
    main = task["containers"][definition.main_index]
    main.update({k: ran[k] for k in (*_RESULT, "logStreamName") if ran.get(k) is not None})
    job["ecsProperties"] = {"taskProperties": [task]}
    attempts = []
    for attempt in job.get("attempts") or []:
        if not isinstance(attempt, dict) or not attempt.get("stoppedAt"):
            continue
        container = attempt.get("container") or {}
        entry = {k: v for k, v in container.items() if k in (*_RESULT, "logStreamName")}
        if main.get("name"):
            entry["name"] = main["name"]
        attempts.append(
            {
                "taskProperties": [{"containers": [entry]}],
                **{
                    k: attempt[k]
                    for k in ("startedAt", "stoppedAt", "statusReason")
                    if k in attempt
                },
            }
        )
    job["attempts"] = attempts


def _merged(containers: Any, overrides: Any, merge: Any) -> list[dict[str, Any]]:
    """The containers with the override of each (by name; no name: the first) applied."""
    out = [dict(c) for c in containers or [] if isinstance(c, dict)]
    for item in overrides or []:
        if not isinstance(item, dict):
            continue
        name = item.get("name")
        for index, container in enumerate(out):
            if name is None or container.get("name") == name:
                out[index] = merge(container, item)
                break
    return out


def _eks_container(container: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    out = dict(container)
    for key in ("image", "command", "args"):
        if key in own:
            out[key] = copy.deepcopy(own[key])
    if own.get("env"):
        out["env"] = _by_name(out.get("env"), own["env"])
    if isinstance(own.get("resources"), dict):
        resources = dict(out.get("resources") or {})
        for key, value in own["resources"].items():
            if isinstance(value, dict):
                resources[key] = {**(resources.get(key) or {}), **value}
        out["resources"] = resources
    return out


def apply_container_override(container: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """``container`` with a ``containerOverrides``-style override applied (a copy)."""
    out = dict(container)
    if "command" in own:
        out["command"] = list(own["command"])
    if own.get("environment"):
        out["environment"] = _by_name(out.get("environment"), own["environment"])
    if own.get("resourceRequirements"):
        kinds = {r.get("type"): r for r in out.get("resourceRequirements") or []}
        kinds.update({r.get("type"): r for r in own["resourceRequirements"]})
        out["resourceRequirements"] = list(kinds.values())
    return out


def _by_name(base: Any, extra: Any) -> list[dict[str, Any]]:
    merged = {str(e.get("name")): dict(e) for e in base or [] if isinstance(e, dict)}
    merged.update({str(e.get("name")): dict(e) for e in extra or [] if isinstance(e, dict)})
    return list(merged.values())


def _metadata(base: Any, own: Any) -> dict[str, Any]:
    out = dict(base) if isinstance(base, dict) else {}
    if isinstance(own, dict):
        for key in ("labels", "annotations"):
            if isinstance(own.get(key), dict):
                out[key] = {**(out.get(key) or {}), **own[key]}
        if own.get("namespace"):
            out["namespace"] = own["namespace"]
    return out


def _cluster_arn(job_arn: str) -> str:
    parts = job_arn.split(":")
    region, account = (parts[3], parts[4]) if len(parts) >= 6 else ("", "")
    return f"arn:aws:eks:{region}:{account}:cluster/local-batch"
