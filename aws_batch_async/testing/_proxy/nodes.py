"""Multi-node parallel (MNP) jobs on moto, which runs each of them as one job with no nodes.

:class:`NodeEmulator` (``BatchProxy(emulate_kinds=True)``, which LocalBatch uses) runs every
node of an MNP job as a moto container job and shows the parent and its nodes as AWS does:

* **RegisterJobDefinition** of a ``multinode`` definition registers it in moto as it is (moto
  gives it its revision and ARN) and, for each of its node ranges, a hidden container
  definition with the range's ``container``. The ``nodeProperties`` are kept by ARN.
* **DescribeJobDefinitions** answers with the ``nodeProperties`` as registered (moto drops
  them) and leaves the hidden definitions out.
* **SubmitJob** of an MNP definition submits one container job per node (to the hidden
  definition of the range that covers the node, with the ``nodeOverrides`` of the ranges that
  cover it and ``AWS_BATCH_JOB_NODE_INDEX``, ``AWS_BATCH_JOB_NUM_NODES``,
  ``AWS_BATCH_JOB_MAIN_NODE_INDEX`` and ``AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS``) and
  answers with a parent id ``P`` of its own; the nodes are ``P#0``... A watcher stops the other
  nodes (TerminateJob) once the main node has finished and they have not within a second.
* **DescribeJobs**, **ListJobs** (by queue: the parent, not the nodes; ``multiNodeJobId``: the
  nodes), **CancelJob** / **TerminateJob** (of the parent: of every node) translate ``P`` and
  ``P#i`` to moto's jobs and present them (:mod:`._proxy_nodes_view`).

It works on the moto calls of the proxy (:meth:`NodeEmulator.wrap` wraps its ``forward``), so
every operation of the proxy built on them (CancelJobs, GetJobQueueSnapshot...) sees the
parents too. The state lives as long as the proxy; it assumes moto is not reset meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .nodes_view import (
    NodeDefinition,
    Parent,
    node_container_overrides,
    parent_summary,
    present_node,
    present_node_summary,
    present_parent,
    target_range,
)
from .operations import Forward, aws_error, dump, resolve_emulated

__all__ = ["NodeEmulator"]

_log = logging.getLogger("aws_batch_async.testing.proxy")
_TERMINAL = frozenset({"SUCCEEDED", "FAILED"})
_WATCH_SECONDS = 0.2
#: How long the other nodes may take to end by themselves once the main node has finished.
_GRACE_SECONDS = 1.0
_STOP_REASON = "The main node exited; the job's other nodes are stopped"
_DEFAULT_REQUIREMENTS = {"VCPU": "1", "MEMORY": "2048"}
_MAX_NODES = 1000
#: SubmitJob members passed on to each node's job.
_NODE_MEMBERS = (
    "jobName",
    "jobQueue",
    "parameters",
    "timeout",
    "retryStrategy",
    "tags",
    "propagateTags",
    "schedulingPriorityOverride",
    "shareIdentifier",
)
Hook = Callable[[dict[str, Any]], None]


class NodeEmulator:
    """Runs each node of an MNP job as a moto container job (thread-safe).

    Args:
        hook: Called with each of moto's node jobs in a DescribeJobs answer, before it is
            presented (the proxy's ``describe_hook``).
    """

    def __init__(self, hook: Hook | None = None) -> None:
        self._hook = hook
        self._lock = threading.Lock()
        self._definitions: dict[str, NodeDefinition] = {}  # ARN -> definition
        self._names: set[str] = set()  # names with an MNP revision
        self._hidden: set[str] = set()  # names of the hidden container definitions
        self._parents: dict[str, Parent] = {}  # parent id -> parent
        self._nodes: dict[str, tuple[Parent, int]] = {}  # moto's job id -> (parent, index)
        self._watchers: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        """Stop watching jobs (on the proxy's loop)."""
        for task in list(self._watchers):
            task.cancel()
        for task in list(self._watchers):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def owns(self, job: dict[str, Any]) -> bool:
        """Whether ``job`` (a DescribeJobs job) is a parent or a node presented here."""
        job_id = str(job.get("jobId", ""))
        with self._lock:
            return job_id.split("#", 1)[0] in self._parents

    def present(self, job: dict[str, Any]) -> None:
        """Show one of moto's node jobs as its node ``P#i`` (in place); others are left."""
        with self._lock:
            found = self._nodes.get(str(job.get("jobId")))
        if found is not None:
            present_node(job, *found)

    # -----------------------------------------------------------------------------------------
    # Operations answered here

    async def respond(
        self, operation: str, body: dict[str, Any], forward: Forward
    ) -> web.Response | None:
        """Answer RegisterJobDefinition / SubmitJob of MNP definitions; ``None``: not ours.

        ``forward`` reaches moto itself (not :meth:`wrap`'s).
        """
        if operation == "RegisterJobDefinition" and body.get("type") == "multinode":
            return await self._register(body, forward)
        if operation == "SubmitJob":
            return await self._submit(body, forward)
        return None

    async def _register(self, body: dict[str, Any], forward: Forward) -> web.Response:
        props = body.get("nodeProperties")
        try:
            if not isinstance(props, dict):
                raise ValueError("a multinode job definition needs nodeProperties")
            if any(body.get(k) for k in ("containerProperties", "eksProperties", "ecsProperties")):
                raise ValueError("a multinode job definition takes only nodeProperties")
            num_nodes, main = props.get("numNodes"), props.get("mainNode")
            ranges = props.get("nodeRangeProperties")
            if not isinstance(num_nodes, int) or not 1 <= num_nodes <= _MAX_NODES:
                raise ValueError(f"nodeProperties.numNodes must be 1..{_MAX_NODES}")
            if not isinstance(main, int) or not 0 <= main < num_nodes:
                raise ValueError("nodeProperties.mainNode must be one of the nodes")
            if not isinstance(ranges, list) or not ranges:
                raise ValueError("nodeProperties.nodeRangeProperties must not be empty")
            for item in ranges:
                container = item.get("container") if isinstance(item, dict) else None
                target_range(item.get("targetNodes") if isinstance(item, dict) else None, num_nodes)
                if not isinstance(container, dict) or not container.get("image"):
                    raise ValueError("every node range needs a container with an image")
        except ValueError as exc:
            return aws_error(400, "ClientException", str(exc))
        status, headers, payload = await forward("/v1/registerjobdefinition", dump(body))
        if status != 200:
            return web.Response(status=status, headers=headers, body=payload)
        answer = json.loads(payload)
        arn, name = str(answer.get("jobDefinitionArn")), str(answer.get("jobDefinitionName"))
        shadows = []
        for index, item in enumerate(ranges):
            hidden = _hidden_name(arn, index)
            shadow: dict[str, Any] = {
                "jobDefinitionName": hidden,
                "type": "container",
                "containerProperties": _with_requirements(item["container"]),
                **{k: body[k] for k in ("parameters", "timeout", "retryStrategy") if k in body},
            }
            code, _, made = await forward("/v1/registerjobdefinition", dump(shadow))
            if code != 200:
                return aws_error(500, "ServerException", f"cannot register node range {index}")
            shadows.append(str(json.loads(made).get("jobDefinitionArn")))
            with self._lock:
                self._hidden.add(hidden)
        with self._lock:
            self._definitions[arn] = NodeDefinition(arn, copy.deepcopy(props), tuple(shadows))
            self._names.add(name)
        return web.Response(status=status, headers=headers, body=payload)

    async def _submit(self, body: dict[str, Any], forward: Forward) -> web.Response | None:
        arn = await resolve_emulated(forward, body.get("jobDefinition"), self._emulated)
        with self._lock:
            definition = self._definitions.get(arn or "")
        if definition is None:
            return None  # a container revision of the name, or unknown: moto answers
        nodes = body.get("nodeOverrides") or {}
        num_nodes = nodes.get("numNodes", definition.properties["numNodes"])
        main = int(definition.properties["mainNode"])
        parent = Parent(str(uuid.uuid4()), "", definition, num_nodes, main)
        try:
            if body.get("arrayProperties"):
                raise ValueError("arrayProperties cannot be used with a multinode job definition")
            if not isinstance(num_nodes, int) or not main < num_nodes <= _MAX_NODES:
                raise ValueError(f"nodeOverrides.numNodes must be {main + 1}..{_MAX_NODES}")
            for entry in nodes.get("nodePropertyOverrides") or []:
                if target_range(entry.get("targetNodes"), num_nodes)[1] >= num_nodes:
                    raise ValueError(f"targetNodes {entry.get('targetNodes')!r} exceeds numNodes")
            plan = [
                node_container_overrides(definition, nodes, parent, i) for i in range(num_nodes)
            ]
        except ValueError as exc:
            return aws_error(400, "ClientException", str(exc))
        common = {k: body[k] for k in _NODE_MEMBERS if k in body}
        if body.get("dependsOn"):
            common["dependsOn"] = [self._moto_dependency(d) for d in body["dependsOn"]]
        for index, (chosen, container) in enumerate(plan):
            sent = {**common, "jobDefinition": definition.shadows[chosen]}
            sent["containerOverrides"] = container
            status, headers, payload = await forward("/v1/submitjob", dump(sent))
            if status != 200:
                await self._stop(forward, parent.nodes, "terminatejob", "submit failed")
                return web.Response(status=status, headers=headers, body=payload)
            answer = json.loads(payload)
            if not parent.arn:
                base = str(answer.get("jobArn", "")).rsplit("/", 1)[0]
                parent.arn = f"{base}/{parent.job_id}"
            parent.nodes.append(str(answer.get("jobId")))
            with self._lock:
                self._parents[parent.job_id] = parent
                self._nodes[parent.nodes[-1]] = (parent, index)
        task = asyncio.get_running_loop().create_task(self._watch(parent, forward))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)
        return web.json_response(
            {"jobArn": parent.arn, "jobName": body.get("jobName"), "jobId": parent.job_id}
        )

    def _emulated(self, name: str) -> bool:
        with self._lock:
            return name in self._names

    def _moto_dependency(self, dependency: Any) -> Any:
        """A ``dependsOn`` entry on a parent or node as one on moto's main / node job."""
        if not isinstance(dependency, dict) or not dependency.get("jobId"):
            return dependency
        moto_id = self._moto_id(str(dependency["jobId"]))
        return {**dependency, "jobId": moto_id[0] if moto_id else dependency["jobId"]}

    def _moto_id(self, job_id: str) -> list[str] | None:
        """moto's ids behind a parent (main node first) or a node id; ``None``: not ours."""
        head, hash_, tail = job_id.partition("#")
        with self._lock:
            parent = self._parents.get(head)
        if parent is None:
            return None
        if not hash_:
            main = parent.nodes[parent.main]
            return [main, *(n for n in parent.nodes if n != main)]
        if tail.isdigit() and int(tail) < len(parent.nodes):
            return [parent.nodes[int(tail)]]
        return []

    async def _watch(self, parent: Parent, forward: Forward) -> None:
        """Stop the other nodes once the main node has finished (as AWS does)."""
        main_done: float | None = None
        try:
            while True:
                await asyncio.sleep(_WATCH_SECONDS)
                jobs = await self._describe(forward, parent.nodes)
                main = jobs.get(parent.nodes[parent.main])
                if main is None:
                    return  # moto forgot it
                if main.get("status") not in _TERMINAL:
                    continue
                running = [
                    n for n in parent.nodes if jobs.get(n, {}).get("status") not in _TERMINAL
                ]
                if not running:
                    return
                main_done = main_done if main_done is not None else time.monotonic()
                if time.monotonic() - main_done >= _GRACE_SECONDS:
                    await self._stop(forward, running, "terminatejob", _STOP_REASON)
                    return
        except asyncio.CancelledError:
            raise
        except Exception:  # never let a watcher's failure reach the proxy's loop
            _log.exception("cannot watch the nodes of %s", parent.job_id)

    # -----------------------------------------------------------------------------------------
    # moto's calls, wrapped

    def wrap(self, forward: Forward) -> Forward:
        """``forward`` that shows moto's node jobs as AWS's parents and nodes."""

        async def wrapped(path: str, data: bytes) -> tuple[int, dict[str, str], bytes]:
            route = path.split("?", 1)[0].rstrip("/").lower()
            handler = {
                "/v1/describejobdefinitions": self._describe_definitions,
                "/v1/describejobs": self._describe_jobs,
                "/v1/listjobs": self._list_jobs,
                "/v1/canceljob": self._stop_job,
                "/v1/terminatejob": self._stop_job,
            }.get(route)
            if handler is None:
                return await forward(path, data)
            try:
                body = json.loads(data) if data else {}
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return await forward(path, data)
            return await handler(route, body, forward)

        return wrapped

    async def _describe_definitions(
        self, path: str, body: dict[str, Any], forward: Forward
    ) -> tuple[int, dict[str, str], bytes]:
        status, headers, payload = await forward(path, dump(body))
        if status != 200:
            return status, headers, payload
        answer = json.loads(payload)
        shown = []
        with self._lock:
            for entry in answer.get("jobDefinitions") or []:
                if entry.get("jobDefinitionName") in self._hidden:
                    continue
                definition = self._definitions.get(str(entry.get("jobDefinitionArn")))
                if definition is not None:
                    entry.pop("containerProperties", None)
                    entry["nodeProperties"] = copy.deepcopy(definition.properties)
                shown.append(entry)
        answer["jobDefinitions"] = shown
        return status, headers, dump(answer)

    async def _describe_jobs(
        self, path: str, body: dict[str, Any], forward: Forward
    ) -> tuple[int, dict[str, str], bytes]:
        ids = body.get("jobs")
        if not isinstance(ids, list) or not ids:
            return await forward(path, dump(body))
        wanted: list[str] = []
        for job_id in ids:
            wanted.extend(self._moto_id(str(job_id)) or [str(job_id)])
        status, headers, payload = await forward(
            path, dump({**body, "jobs": list(dict.fromkeys(wanted))})
        )
        if status != 200:
            return status, headers, payload
        by_id = {str(j.get("jobId")): j for j in json.loads(payload).get("jobs") or []}
        for moto_id, job in by_id.items():
            with self._lock:
                is_node = moto_id in self._nodes
            if is_node and self._hook is not None:
                self._hook(job)  # the proxy hooks the jobs it sees, which are not moto's
        jobs = [self._as_aws(job_id, by_id) for job_id in dict.fromkeys(str(i) for i in ids)]
        return status, headers, dump({"jobs": [job for job in jobs if job is not None]})

    def _as_aws(self, job_id: str, by_id: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        """The job AWS describes for ``job_id`` (a parent, a node ``P#i`` or any other job)."""
        with self._lock:
            if job_id in self._nodes:
                return None  # moto's id of a node: AWS never heard of it
            head, _, tail = job_id.partition("#")
            parent = self._parents.get(head)
        if parent is None:
            return by_id.get(job_id)
        if job_id == head:
            main = by_id.get(parent.nodes[parent.main])
            return present_parent(main, parent) if main is not None else None
        if tail.isdigit() and int(tail) < len(parent.nodes):
            node = by_id.get(parent.nodes[int(tail)])
            if node is not None:
                node = copy.deepcopy(node)
                present_node(node, parent, int(tail))
                return node
        return None

    async def _list_jobs(
        self, path: str, body: dict[str, Any], forward: Forward
    ) -> tuple[int, dict[str, str], bytes]:
        multi = body.get("multiNodeJobId")
        with self._lock:
            parent = self._parents.get(str(multi)) if multi else None
        if multi and parent is None:
            return 200, {}, dump({"jobSummaryList": []})
        if parent is not None:  # moto knows no multiNodeJobId: list the queue, keep the nodes
            queue = {k: v for k, v in body.items() if k != "multiNodeJobId"}
            queue["jobQueue"] = await self._queue_of(forward, parent)
            body = queue
        status, headers, payload = await forward(path, dump(body))
        if status != 200:
            return status, headers, payload
        listed = []
        for summary in json.loads(payload).get("jobSummaryList") or []:
            with self._lock:
                found = self._nodes.get(str(summary.get("jobId")))
            if parent is not None:
                if found is not None and found[0] is parent:
                    present_node_summary(summary, parent, found[1])
                    listed.append(summary)
            elif found is None:
                listed.append(summary)
            elif found[1] == found[0].main:  # a queue lists the parent, not its nodes
                listed.append(parent_summary(summary, found[0]))
        return status, headers, dump({"jobSummaryList": listed})

    async def _queue_of(self, forward: Forward, parent: Parent) -> str:
        jobs = await self._describe(forward, parent.nodes[:1])
        return str(jobs.get(parent.nodes[0], {}).get("jobQueue", ""))

    async def _stop_job(
        self, path: str, body: dict[str, Any], forward: Forward
    ) -> tuple[int, dict[str, str], bytes]:
        moto_ids = self._moto_id(str(body.get("jobId", "")))
        if moto_ids is None:
            return await forward(path, dump(body))
        if not moto_ids:
            message = f"Job {body.get('jobId')} not found"
            return (
                400,
                {"x-amzn-ErrorType": "ClientException"},
                dump({"__type": "ClientException", "message": message}),
            )
        answer: tuple[int, dict[str, str], bytes] = (200, {}, b"{}")
        for moto_id in moto_ids:
            answer = await forward(path, dump({**body, "jobId": moto_id}))
            if answer[0] != 200:
                return answer
        return answer

    async def _stop(self, forward: Forward, moto_ids: list[str], op: str, reason: str) -> None:
        for moto_id in moto_ids:
            await forward(f"/v1/{op}", dump({"jobId": moto_id, "reason": reason}))

    async def _describe(self, forward: Forward, moto_ids: list[str]) -> dict[str, dict[str, Any]]:
        status, _, payload = await forward("/v1/describejobs", dump({"jobs": moto_ids}))
        if status != 200:
            return {}
        return {str(j.get("jobId")): j for j in json.loads(payload).get("jobs") or []}


def _hidden_name(arn: str, index: int) -> str:
    digest = hashlib.sha256(arn.encode()).hexdigest()[:16]
    return f"local-batch-node-range-{digest}-{index}"


def _with_requirements(container: dict[str, Any]) -> dict[str, Any]:
    """The range's container, with the vCPU and memory moto needs if it gives none."""
    out = copy.deepcopy(container)
    requirements = list(out.get("resourceRequirements") or [])
    kinds = {r.get("type") for r in requirements if isinstance(r, dict)}
    legacy = {"VCPU": "vcpus", "MEMORY": "memory"}
    for kind, value in _DEFAULT_REQUIREMENTS.items():
        if kind not in kinds and legacy[kind] not in out:
            requirements.append({"type": kind, "value": value})
    out["resourceRequirements"] = requirements
    return out
