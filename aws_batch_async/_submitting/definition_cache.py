"""Job kinds, and what the service learns of a job definition before submitting to it.

The kind-neutral fields of a :class:`~aws_batch_async.JobRequest` (``command``, ``env_vars``,
``vcpus``, ``memory_mib``, ``gpus``) go to a different override for each kind of job
(``docs/jobs.md``), so the service learns each definition's kind, platform and containers from
DescribeJobDefinitions **once per definition** for its lifetime (:class:`DefinitionCache`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._errors import JobDefinitionNotFoundError
from .._models.aws_enums import Platform
from .._models.job_kinds import job_kind, platform_of
from .._models.job_parts import JobKind
from .._transport.pagination import pages
from .._types import CallFn

__all__ = [
    "DefinitionCache",
    "DefinitionInfo",
    "JobKind",
    "Platform",
    "definition_info",
    "parse_reference",
]


_ARN = re.compile(r"^arn:[^:]+:batch:[^:]*:[^:]*:job-definition/(?P<name>[^:]+)(?::(?P<rev>\d+))?$")


@dataclass(frozen=True)
class DefinitionInfo:
    """What a submit needs to know of a job definition.

    Attributes:
        kind: The definition's :class:`JobKind`.
        platform: The :class:`Platform` (``EC2`` when the definition states none), or
            ``None`` when unknown.
        containers: ``(name, essential)`` of the EKS pod's or ECS task's containers, in order;
            empty for container and multi-node jobs, or when unknown.
        num_nodes: The multi-node definition's ``numNodes``, if known.
        vcpus: The (first) container's vCPUs in the definition, if known.
        memory_mib: The (first) container's memory in MiB in the definition, if known.
        arn: The definition's ARN, if it was looked up.
    """

    kind: JobKind
    platform: Platform | None = None
    containers: tuple[tuple[str, bool], ...] = ()
    num_nodes: int | None = None
    vcpus: float | None = None
    memory_mib: int | None = None
    arn: str | None = None

    @property
    def container_names(self) -> list[str]:
        """The containers' names, in order."""
        return [name for name, _ in self.containers]


def definition_info(raw: dict[str, Any]) -> DefinitionInfo:
    """Learn kind, platform and containers from a DescribeJobDefinitions entry.

    Args:
        raw: One ``jobDefinitions`` entry as AWS returns it.

    Returns:
        The definition's :class:`DefinitionInfo`.
    """
    kind = job_kind(raw)
    platform = Platform(platform_of(raw) or Platform.EC2)
    containers: list[tuple[str, bool]] = []
    num_nodes = None
    resources: list[Any] = []
    if kind is JobKind.MULTINODE:
        node = _dict(raw.get("nodeProperties"))
        num_nodes = node.get("numNodes") if isinstance(node.get("numNodes"), int) else None
    elif kind is JobKind.EKS:
        platform = Platform.EC2  # an EKS job's limits are its nodes': EC2's
        pod = _dict(_dict(raw.get("eksProperties")).get("podProperties"))
        for c in pod.get("containers") or []:
            if isinstance(c, dict) and c.get("name"):
                containers.append((str(c["name"]), True))
    elif kind is JobKind.ECS:
        tasks = _dict(raw.get("ecsProperties")).get("taskProperties") or [{}]
        for c in _dict(tasks[0]).get("containers") or []:
            if isinstance(c, dict) and c.get("name"):
                containers.append((str(c["name"]), c.get("essential", True) is not False))
    else:
        container = raw.get("containerProperties") or {}
        resources = container.get("resourceRequirements") or []
    vcpus: float | None = None
    memory: int | None = None
    for req in resources:
        if isinstance(req, dict) and req.get("type") == "VCPU":
            vcpus = _number(req.get("value"))
        elif isinstance(req, dict) and req.get("type") == "MEMORY":
            value = _number(req.get("value"))
            memory = int(value) if value is not None else None
    return DefinitionInfo(
        kind=kind,
        platform=platform,
        containers=tuple(containers),
        num_nodes=num_nodes,
        vcpus=vcpus,
        memory_mib=memory,
        arn=raw.get("jobDefinitionArn"),
    )


class DefinitionCache:
    """Looks each job definition up once for the life of a service.

    Concurrent submits of a new definition share one lookup; a failed lookup is not cached.

    Args:
        call: The service's Batch call.
    """

    def __init__(self, call: CallFn) -> None:
        self._call = call
        self._known: dict[str, asyncio.Future[DefinitionInfo]] = {}

    def cached(self, definition: str) -> DefinitionInfo | None:
        """The definition's info if an earlier lookup already succeeded, else ``None``."""
        future = self._known.get(definition)
        if future is None or not future.done() or future.cancelled() or future.exception():
            return None
        return future.result()

    async def infos(self, definitions: list[str | None]) -> list[DefinitionInfo | None]:
        """The info of each definition (``None`` for ``None``); one lookup per new name.

        A definition looked up before costs no task: the common case of a fan-out.
        """
        infos = [self.cached(d) if d is not None else None for d in definitions]
        missing = list(
            dict.fromkeys(d for d, i in zip(definitions, infos, strict=True) if d and i is None)
        )
        if not missing:
            return infos
        found = dict(zip(missing, await asyncio.gather(*map(self.get, missing)), strict=True))
        return [
            info if info is not None or d is None else found[d]
            for d, info in zip(definitions, infos, strict=True)
        ]

    async def get(self, definition: str) -> DefinitionInfo:
        """The definition's info (``name`` alone means its latest ACTIVE revision).

        Raises:
            JobDefinitionNotFoundError: No ACTIVE definition matches.
            BatchAPIError: DescribeJobDefinitions failed (e.g. access denied: it needs
                ``batch:DescribeJobDefinitions``; set ``JobRequest.kind`` or
                ``BatchConfig.job_definition_kind`` to skip the lookup).
        """
        future = self._known.get(definition)
        if future is None:
            future = self._known[definition] = asyncio.ensure_future(self._lookup(definition))
            future.add_done_callback(self._forget_failure(definition))
        return await asyncio.shield(future)

    def _forget_failure(self, definition: str) -> Callable[[asyncio.Future[DefinitionInfo]], None]:
        def done(future: asyncio.Future[DefinitionInfo]) -> None:
            failed = future.cancelled() or future.exception() is not None
            if failed and self._known.get(definition) is future:
                del self._known[definition]

        return done

    async def _lookup(self, definition: str) -> DefinitionInfo:
        name, revision = parse_reference(definition)
        best: dict[str, Any] | None = None
        params = {"jobDefinitionName": name, "status": "ACTIVE"}
        async for page in pages(self._call, "DescribeJobDefinitions", params):
            for raw in page.get("jobDefinitions") or []:
                if raw.get("jobDefinitionName") != name or raw.get("status", "ACTIVE") != "ACTIVE":
                    continue
                rev = raw.get("revision")
                if not isinstance(rev, int) or (revision is not None and rev != revision):
                    continue
                if best is None or rev > best["revision"]:
                    best = raw
        if best is None:
            raise JobDefinitionNotFoundError(definition)
        return definition_info(best)


def parse_reference(definition: str) -> tuple[str, int | None]:
    """The name and revision a job definition reference names: the one parser of them.

    Args:
        definition: ``name``, ``name:revision`` or an ARN (``...:job-definition/name[:rev]``).

    Returns:
        ``(name, revision)``; the revision is ``None`` when none is given. Anything else
        (``"a:b"``) comes back whole as the name, with no revision.
    """
    match = _ARN.match(definition)
    if match:
        rev = match.group("rev")
        return match.group("name"), int(rev) if rev else None
    name, sep, rev = definition.rpartition(":")
    if sep and rev.isdigit() and name:
        return name, int(rev)
    return definition, None


#: The name ``testing/`` imports (kept for it).
_parse_reference = parse_reference


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
