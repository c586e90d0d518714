"""EKS and ECS-properties jobs on moto, which runs container jobs only.

moto fails every EKS job without running anything, and rejects job definitions with
``ecsProperties``. :class:`KindEmulator` (``BatchProxy(emulate_kinds=True)``, which LocalBatch
uses) makes both work on moto's container jobs:

* **RegisterJobDefinition** of an EKS or ECS-properties definition registers, under the same
  name, a *container* definition for the one container that is run (the pod's main container:
  the first; the task's essential container: the first with ``essential`` true, else the
  first), so moto gives it its revision and ARN and DeregisterJobDefinition makes it INACTIVE.
  The definition as registered is kept, by ARN.
* **DescribeJobDefinitions** answers those revisions with ``eksProperties`` /
  ``ecsProperties`` as registered (no ``containerProperties``).
* **SubmitJob** with ``eksPropertiesOverride`` / ``ecsPropertiesOverride`` submits moto's
  container job with ``containerOverrides`` built from the override of the container that
  runs (EKS: ``command`` + ``args``, ``env``; ECS: ``command``, ``environment``); the override
  is kept by job id. ``containerOverrides`` are refused for these definitions, as AWS does.
* **DescribeJobs** presents the jobs as AWS does (:mod:`._proxy_kinds_view`).

The emulator's state lives as long as the proxy; it assumes moto is not reset meanwhile.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from typing import Any

from aiohttp import web

from .kinds_view import Definition, present_ecs, present_eks
from .operations import Forward, aws_error, dump, resolve_emulated

__all__ = ["KindEmulator"]

_DEFAULT_VCPUS = "1"
_DEFAULT_MEMORY_MIB = "2048"
_MEMORY_UNITS = {
    "Ki": 1 / 1024,
    "Mi": 1,
    "Gi": 1024,
    "Ti": 1024 * 1024,
    "K": 1000 / 1024**2,
    "M": 1000**2 / 1024**2,
    "G": 1000**3 / 1024**2,
    "T": 1000**4 / 1024**2,
}
_CONTAINER_FIELDS = (
    "image",
    "command",
    "environment",
    "resourceRequirements",
    "logConfiguration",
    "privileged",
    "readonlyRootFilesystem",
    "user",
)


class KindEmulator:
    """Runs EKS and ECS-properties jobs as moto's container jobs (thread-safe).

    Handlers run on the proxy's loop; :meth:`present` also runs on other threads (LocalBatch's
    event emitter).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._definitions: dict[str, Definition] = {}  # ARN -> the definition as registered
        self._names: set[str] = set()  # names with an emulated revision
        self._overrides: dict[str, dict[str, Any]] = {}  # job id -> its kind's override

    # -----------------------------------------------------------------------------------------
    # Job definitions

    async def register_job_definition(self, body: dict[str, Any], forward: Forward) -> web.Response:
        """RegisterJobDefinition: an EKS / ECS definition becomes a container one in moto."""
        eks, ecs = body.get("eksProperties"), body.get("ecsProperties")
        if eks is None and ecs is None:
            status, headers, payload = await forward("/v1/registerjobdefinition", dump(body))
            if status == 200:  # a container revision: forget what an earlier moto had there
                with self._lock:
                    self._definitions.pop(str(json.loads(payload).get("jobDefinitionArn")), None)
            return web.Response(status=status, headers=headers, body=payload)
        try:
            if body.get("containerProperties") is not None or body.get("nodeProperties"):
                raise ValueError(
                    "containerProperties and nodeProperties cannot be given with "
                    + ("eksProperties" if eks is not None else "ecsProperties")
                )
            if eks is not None and ecs is not None:
                raise ValueError("eksProperties and ecsProperties cannot both be given")
            if body.get("type") != "container":
                raise ValueError("type must be container")
            definition = _eks_definition(eks) if eks is not None else _ecs_definition(ecs)
        except ValueError as exc:
            return aws_error(400, "ClientException", str(exc))
        shadow = {k: v for k, v in body.items() if k not in ("eksProperties", "ecsProperties")}
        shadow["containerProperties"] = definition.shadow
        status, headers, payload = await forward("/v1/registerjobdefinition", dump(shadow))
        if status == 200:
            answer = json.loads(payload)
            with self._lock:
                self._definitions[str(answer.get("jobDefinitionArn"))] = definition
                self._names.add(str(answer.get("jobDefinitionName")))
        return web.Response(status=status, headers=headers, body=payload)

    async def describe_job_definitions(
        self, body: dict[str, Any], forward: Forward
    ) -> web.Response:
        """DescribeJobDefinitions: emulated revisions with their EKS / ECS properties."""
        status, headers, payload = await forward("/v1/describejobdefinitions", dump(body))
        if status != 200:
            return web.Response(status=status, headers=headers, body=payload)
        answer = json.loads(payload)
        for entry in answer.get("jobDefinitions") or []:
            with self._lock:
                definition = self._definitions.get(str(entry.get("jobDefinitionArn")))
            if definition is None:
                continue
            entry.pop("containerProperties", None)
            entry[definition.member] = copy.deepcopy(definition.properties)
            entry["containerOrchestrationType"] = "EKS" if definition.kind == "EKS" else "ECS"
        return web.Response(status=status, headers=headers, body=dump(answer))

    # -----------------------------------------------------------------------------------------
    # Jobs

    async def submit_job(self, body: dict[str, Any], forward: Forward) -> web.Response | None:
        """SubmitJob to an emulated definition with overrides; ``None``: forward it as it is."""
        overridden = any(
            k in body
            for k in ("eksPropertiesOverride", "ecsPropertiesOverride", "containerOverrides")
        )
        if not overridden:
            return None
        arn = await resolve_emulated(forward, body.get("jobDefinition"), self._emulated)
        with self._lock:
            definition = self._definitions.get(arn or "")
        if arn is None or definition is None:
            return None  # a container revision, or unknown: moto answers
        try:
            sent = _translate(body, definition)
        except ValueError as exc:
            return aws_error(400, "ClientException", str(exc))
        sent["jobDefinition"] = arn
        status, headers, payload = await forward("/v1/submitjob", dump(sent))
        if status == 200:
            job_id = str(json.loads(payload).get("jobId"))
            with self._lock:
                self._overrides[job_id] = copy.deepcopy(body.get(definition.override_member) or {})
        return web.Response(status=status, headers=headers, body=payload)

    def _emulated(self, name: str) -> bool:
        with self._lock:
            return name in self._names

    def present(self, job: dict[str, Any]) -> None:
        """Show a DescribeJobs job of an emulated definition as AWS does (in place)."""
        with self._lock:
            definition = self._definitions.get(str(job.get("jobDefinition")))
            if definition is None:
                return
            root = str(job.get("jobId", "")).split(":", 1)[0]  # array children: the parent's
            override = copy.deepcopy(self._overrides.get(root) or {})
        if definition.kind == "EKS":
            present_eks(job, definition, override)
        else:
            present_ecs(job, definition, override)


# ---------------------------------------------------------------------------------------------
# Definitions


def _eks_definition(eks: Any) -> Definition:
    pod = eks.get("podProperties") if isinstance(eks, dict) else None
    containers = pod.get("containers") if isinstance(pod, dict) else None
    if not isinstance(containers, list) or not containers:
        raise ValueError("eksProperties.podProperties must contain at least one container")
    _check_containers(containers, "eksProperties.podProperties.containers")
    main = containers[0]
    shadow: dict[str, Any] = {
        "image": main["image"],
        "resourceRequirements": _kubernetes_requirements(main.get("resources")),
    }
    argv = [*(main.get("command") or []), *(main.get("args") or [])]
    if argv:
        shadow["command"] = argv
    if main.get("env"):
        shadow["environment"] = _kubernetes_env(main["env"])
    return Definition("EKS", copy.deepcopy(eks), 0, shadow)


def _ecs_definition(ecs: Any) -> Definition:
    tasks = ecs.get("taskProperties") if isinstance(ecs, dict) else None
    if not isinstance(tasks, list) or len(tasks) != 1 or not isinstance(tasks[0], dict):
        raise ValueError("ecsProperties.taskProperties must hold exactly one task")
    containers = tasks[0].get("containers")
    if not isinstance(containers, list) or not containers:
        raise ValueError("ecsProperties.taskProperties[0].containers must not be empty")
    _check_containers(containers, "ecsProperties.taskProperties[0].containers")
    if len(containers) > 1 and not all(c.get("name") for c in containers):
        raise ValueError("every container of a task of several containers needs a name")
    index = next((i for i, c in enumerate(containers) if c.get("essential") is True), 0)
    main = containers[index]
    shadow = {k: copy.deepcopy(main[k]) for k in _CONTAINER_FIELDS if k in main}
    requirements = list(shadow.get("resourceRequirements") or [])
    kinds = {r.get("type") for r in requirements if isinstance(r, dict)}
    if "VCPU" not in kinds:
        requirements.append({"type": "VCPU", "value": _DEFAULT_VCPUS})
    if "MEMORY" not in kinds:
        requirements.append({"type": "MEMORY", "value": _DEFAULT_MEMORY_MIB})
    shadow["resourceRequirements"] = requirements
    return Definition("ECS", copy.deepcopy(ecs), index, shadow)


def _check_containers(containers: list[Any], where: str) -> None:
    names = [c.get("name") for c in containers if isinstance(c, dict) and c.get("name")]
    if len(names) != len(set(names)):
        raise ValueError(f"{where}: container names must be unique")
    for item in containers:
        if not isinstance(item, dict) or not isinstance(item.get("image"), str):
            raise ValueError(f"{where}: every container must have an image")


def _kubernetes_requirements(resources: Any) -> list[dict[str, str]]:
    """VCPU and MEMORY (MiB) from Kubernetes limits (else requests); defaults if unreadable."""
    limits: dict[str, Any] = {}
    if isinstance(resources, dict):
        for key in ("requests", "limits"):  # limits win
            if isinstance(resources.get(key), dict):
                limits.update(resources[key])
    cpu = _cpu(limits.get("cpu"))
    memory = _memory_mib(limits.get("memory"))
    return [
        {"type": "VCPU", "value": cpu or _DEFAULT_VCPUS},
        {"type": "MEMORY", "value": memory or _DEFAULT_MEMORY_MIB},
    ]


def _cpu(value: Any) -> str | None:
    text = str(value or "")
    try:
        cpus = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        return None
    return f"{cpus:g}" if cpus > 0 else None


def _memory_mib(value: Any) -> str | None:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i?)?", str(value or ""))
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2)
    mib = int(number * _MEMORY_UNITS[unit]) if unit else int(number / 1024**2)
    return str(mib) if mib >= 4 else None


def _kubernetes_env(env: Any) -> list[dict[str, str]]:
    if not isinstance(env, list):
        return []
    return [
        {"name": str(e["name"]), "value": str(e.get("value", ""))}
        for e in env
        if isinstance(e, dict) and e.get("name")
    ]


# ---------------------------------------------------------------------------------------------
# Submits


def _translate(body: dict[str, Any], definition: Definition) -> dict[str, Any]:
    """The SubmitJob body for moto's container job: the kind's override as containerOverrides.

    Raises:
        ValueError: An override AWS refuses for the definition, or of an unknown container.
    """
    wrong = "ecsPropertiesOverride" if definition.kind == "EKS" else "eksPropertiesOverride"
    for member in ("containerOverrides", wrong):
        if member in body:
            raise ValueError(
                f"{member} cannot be used with a job definition with {definition.member}; "
                f"use {definition.override_member}"
            )
    sent = {k: v for k, v in body.items() if k != definition.override_member}
    override = body.get(definition.override_member) or {}
    main = definition.main_container
    if definition.kind == "EKS":
        pod = override.get("podProperties") or {}
        chosen = _pick(definition.containers, pod.get("containers"), "containers")
        _pick(definition.init_containers, pod.get("initContainers"), "initContainers")
        own = chosen.get(definition.main_index, {})
        container: dict[str, Any] = {}
        if "command" in own or "args" in own:
            command = own.get("command", main.get("command")) or []
            args = own.get("args", main.get("args")) or []
            container["command"] = [*command, *args]
        if own.get("env"):
            container["environment"] = _kubernetes_env(own["env"])
    else:
        tasks = override.get("taskProperties") or [{}]
        given = tasks[0].get("containers") if isinstance(tasks[0], dict) else None
        own = _pick(definition.containers, given, "containers").get(definition.main_index, {})
        container = {k: own[k] for k in ("command", "environment") if k in own}
    if container:
        sent["containerOverrides"] = container
    return sent


def _pick(
    containers: list[dict[str, Any]], overrides: Any, where: str
) -> dict[int, dict[str, Any]]:
    """Each override by the index of the container it names (no name: the first container)."""
    chosen: dict[int, dict[str, Any]] = {}
    for item in overrides or []:
        if not isinstance(item, dict):
            continue
        name = item.get("name")
        index = next(
            (i for i, c in enumerate(containers) if name is None or c.get("name") == name), None
        )
        if index is None:
            raise ValueError(f"{where}: {name!r} is not a container of the job definition")
        chosen[index] = item
    return chosen
