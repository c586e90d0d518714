"""Multi-node parallel jobs as AWS shows them, built from the container jobs moto ran per node.

The emulation (:mod:`._proxy_nodes`) runs node ``i`` of a parent ``P`` as a moto container job
of its own id. AWS shows instead:

* the parent ``P``: ``nodeProperties`` (``numNodes``, ``mainNode``, ``nodeRangeProperties``),
  ``jobDefinition`` the multi-node definition's ARN, its status and status reason the main
  node's, its attempts the main node's without their container, and no ``container``;
* each node ``P#i``: ``nodeDetails`` (``nodeIndex``, ``isMainNode``), its own ``container``
  (exit code, reason, log stream) and ``AWS_BATCH_JOB_ID`` ``P#i``;
* ListJobs summaries: the parent by queue (``nodeProperties.numNodes``), the nodes by
  ``multiNodeJobId`` (``nodeProperties`` ``isMainNode``, ``nodeIndex``, ``numNodes``).

This module also computes what runs on each node: the container of the node range that covers
it, with the submit's overrides of the ranges that cover it and the environment AWS sets.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .kinds_view import apply_container_override

__all__ = [
    "MAIN_NODE_ADDRESS",
    "NODE_JOB_ID_VARIABLE",
    "NodeDefinition",
    "Parent",
    "node_container_overrides",
    "parent_summary",
    "present_node",
    "present_parent",
    "present_node_summary",
    "target_range",
]

#: Carries a node's id ``P#i`` to LocalBatch's runner, which makes it the process's
#: ``AWS_BATCH_JOB_ID`` (moto sets its own job id there); DescribeJobs never shows it.
NODE_JOB_ID_VARIABLE = "LOCAL_BATCH_NODE_JOB_ID"
#: ``AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS`` on the other nodes: every node is local.
MAIN_NODE_ADDRESS = "127.0.0.1"
_PARENT_FIELDS = (
    "jobName",
    "jobQueue",
    "status",
    "statusReason",
    "createdAt",
    "startedAt",
    "stoppedAt",
    "dependsOn",
    "parameters",
    "tags",
    "timeout",
    "retryStrategy",
    "propagateTags",
    "isCancelled",
    "isTerminated",
    "schedulingPriority",
    "shareIdentifier",
)


@dataclass(frozen=True)
class NodeDefinition:
    """A multi-node definition as registered, and the container definitions moto runs.

    Attributes:
        arn: Its ARN (moto's).
        properties: Its ``nodeProperties`` as registered.
        shadows: The ARN of the hidden container definition of each node range, in order.
    """

    arn: str
    properties: dict[str, Any]
    shadows: tuple[str, ...]

    @property
    def ranges(self) -> list[dict[str, Any]]:
        """The ``nodeRangeProperties``."""
        return [dict(r) for r in self.properties.get("nodeRangeProperties") or []]


@dataclass
class Parent:
    """A multi-node job the emulation minted.

    Attributes:
        job_id: Its id ``P`` (the nodes are ``P#0``...).
        arn: Its ARN.
        definition: Its definition.
        num_nodes: How many nodes it has.
        main: The main node's index.
        nodes: moto's job id of each node, by index.
    """

    job_id: str
    arn: str
    definition: NodeDefinition
    num_nodes: int
    main: int
    nodes: list[str] = field(default_factory=list)

    def node_arn(self, index: int) -> str:
        """The ARN of node ``index``."""
        return f"{self.arn}#{index}"


def target_range(target: Any, num_nodes: int) -> tuple[int, int]:
    """``(first, last)`` of AWS's ``targetNodes`` (``"0:"``, ``":3"``, ``"2:5"``, ``"4"``).

    Raises:
        ValueError: Not a node range.
    """
    text = str(target if target is not None else "")
    head, colon, tail = text.partition(":")
    try:
        first = int(head) if head else 0
        last = (int(tail) if tail else num_nodes - 1) if colon else first
    except ValueError:
        raise ValueError(f"targetNodes {text!r} is not a node range") from None
    if not text or first < 0 or (tail and last < first):
        raise ValueError(f"targetNodes {text!r} is not a node range")
    return first, last  # "4:" of 3 nodes: (4, 2), no node


def node_container_overrides(
    definition: NodeDefinition, nodes: dict[str, Any], parent: Parent, index: int
) -> tuple[int, dict[str, Any]]:
    """The node range that runs node ``index`` and the ``containerOverrides`` of its job.

    Args:
        definition: The multi-node definition.
        nodes: The submit's ``nodeOverrides``.
        parent: The job (its id, nodes and main node).
        index: The node.

    Raises:
        ValueError: No node range covers the node.
    """
    num_nodes, main = parent.num_nodes, parent.main
    chosen = next(
        (
            k
            for k, r in enumerate(definition.ranges)
            if _covers(r.get("targetNodes"), num_nodes, index)
        ),
        None,
    )
    if chosen is None:
        raise ValueError(f"node {index} of {num_nodes} is in no nodeRangeProperties range")
    override: dict[str, Any] = {}
    for entry in nodes.get("nodePropertyOverrides") or []:
        if isinstance(entry, dict) and _covers(entry.get("targetNodes"), num_nodes, index):
            override = apply_container_override(override, entry.get("containerOverrides") or {})
    env = {
        "AWS_BATCH_JOB_NODE_INDEX": str(index),
        "AWS_BATCH_JOB_NUM_NODES": str(num_nodes),
        "AWS_BATCH_JOB_MAIN_NODE_INDEX": str(main),
        NODE_JOB_ID_VARIABLE: f"{parent.job_id}#{index}",
    }
    if index != main:
        env["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"] = MAIN_NODE_ADDRESS
    extra = [{"name": k, "value": v} for k, v in env.items()]
    return chosen, apply_container_override(override, {"environment": extra})


def _covers(target: Any, num_nodes: int, index: int) -> bool:
    first, last = target_range(target, num_nodes)
    return first <= index <= last


def present_parent(main: dict[str, Any], parent: Parent) -> dict[str, Any]:
    """The parent as DescribeJobs shows it, from its main node's job (moto's, amended)."""
    job: dict[str, Any] = {k: copy.deepcopy(main[k]) for k in _PARENT_FIELDS if k in main}
    job.update(
        jobId=parent.job_id,
        jobArn=parent.arn,
        jobDefinition=parent.definition.arn,
        nodeProperties={
            "numNodes": parent.num_nodes,
            "mainNode": parent.main,
            "nodeRangeProperties": parent.definition.ranges,
        },
        attempts=[
            {k: v for k, v in a.items() if k != "container"}
            for a in main.get("attempts") or []
            if isinstance(a, dict)
        ],
    )
    return job


def present_node(job: dict[str, Any], parent: Parent, index: int) -> None:
    """Show moto's job of node ``index`` as AWS shows the node ``P#index`` (in place)."""
    node_id = f"{parent.job_id}#{index}"
    job.update(
        jobId=node_id,
        jobArn=parent.node_arn(index),
        jobDefinition=parent.definition.arn,
        nodeDetails={"nodeIndex": index, "isMainNode": index == parent.main},
    )
    container = job.get("container")
    if isinstance(container, dict) and isinstance(container.get("environment"), list):
        shown = []
        for item in container["environment"]:
            name = item.get("name") if isinstance(item, dict) else None
            if name == "AWS_BATCH_JOB_ID":
                item["value"] = node_id
            if name != NODE_JOB_ID_VARIABLE:
                shown.append(item)
        container["environment"] = shown


def present_node_summary(summary: dict[str, Any], parent: Parent, index: int) -> None:
    """Show moto's ListJobs summary of node ``index`` as AWS summarises ``P#index``."""
    summary.update(
        jobId=f"{parent.job_id}#{index}",
        jobArn=parent.node_arn(index),
        jobDefinition=parent.definition.arn,
        nodeProperties={
            "isMainNode": index == parent.main,
            "nodeIndex": index,
            "numNodes": parent.num_nodes,
        },
    )


def parent_summary(main: dict[str, Any], parent: Parent) -> dict[str, Any]:
    """The parent's ListJobs summary, from its main node's (moto's)."""
    summary = {k: copy.deepcopy(v) for k, v in main.items() if k != "container"}
    summary.update(
        jobId=parent.job_id,
        jobArn=parent.arn,
        jobDefinition=parent.definition.arn,
        nodeProperties={"numNodes": parent.num_nodes},
    )
    return summary
