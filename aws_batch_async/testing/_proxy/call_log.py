"""The proxy's call log: a bounded ring of recorded calls, with exact counters beside it.

A long-lived proxy (``LocalBatch`` in a demo, a soak test) sees many thousands of calls, so the
log keeps the latest ``max_calls`` only, while :meth:`CallLog.count` and :meth:`CallLog.counts`
stay exact for every call ever received. It also counts the calls of each operation being
served at once, and the most there ever were (:meth:`CallLog.peak`): what a client's cap on
its calls in flight looks like from the endpoint. Request bodies are recorded with the values
of every ``environment`` / ``env`` list and of every ``parameters`` map masked, so no secret a
caller sends ends up in a test's memory, repr or failure output.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

__all__ = [
    "MASK",
    "CallLog",
    "RecordedCall",
    "access_key_id",
    "mask_secrets",
    "operation_of",
]

#: What a masked value is replaced with.
MASK = "***"
_ENV_KEYS = frozenset({"environment", "env"})
#: Every Batch operation of botocore 1.43's model, by its path (a test pins it to the model).
_BATCH_OPERATIONS = {
    "/v1/canceljob": "CancelJob",
    "/v1/canceljobs": "CancelJobs",
    "/v1/createcomputeenvironment": "CreateComputeEnvironment",
    "/v1/createconsumableresource": "CreateConsumableResource",
    "/v1/createjobqueue": "CreateJobQueue",
    "/v1/createquotashare": "CreateQuotaShare",
    "/v1/createschedulingpolicy": "CreateSchedulingPolicy",
    "/v1/createserviceenvironment": "CreateServiceEnvironment",
    "/v1/deletecomputeenvironment": "DeleteComputeEnvironment",
    "/v1/deleteconsumableresource": "DeleteConsumableResource",
    "/v1/deletejobqueue": "DeleteJobQueue",
    "/v1/deletequotashare": "DeleteQuotaShare",
    "/v1/deleteschedulingpolicy": "DeleteSchedulingPolicy",
    "/v1/deleteserviceenvironment": "DeleteServiceEnvironment",
    "/v1/deregisterjobdefinition": "DeregisterJobDefinition",
    "/v1/describecomputeenvironments": "DescribeComputeEnvironments",
    "/v1/describeconsumableresource": "DescribeConsumableResource",
    "/v1/describejobdefinitions": "DescribeJobDefinitions",
    "/v1/describejobqueues": "DescribeJobQueues",
    "/v1/describejobs": "DescribeJobs",
    "/v1/describequotashare": "DescribeQuotaShare",
    "/v1/describeschedulingpolicies": "DescribeSchedulingPolicies",
    "/v1/describeserviceenvironments": "DescribeServiceEnvironments",
    "/v1/describeservicejob": "DescribeServiceJob",
    "/v1/getjobqueuesnapshot": "GetJobQueueSnapshot",
    "/v1/listconsumableresources": "ListConsumableResources",
    "/v1/listjobs": "ListJobs",
    "/v1/listjobsbyconsumableresource": "ListJobsByConsumableResource",
    "/v1/listquotashares": "ListQuotaShares",
    "/v1/listschedulingpolicies": "ListSchedulingPolicies",
    "/v1/listservicejobs": "ListServiceJobs",
    "/v1/registerjobdefinition": "RegisterJobDefinition",
    "/v1/submitjob": "SubmitJob",
    "/v1/submitservicejob": "SubmitServiceJob",
    "/v1/terminatejob": "TerminateJob",
    "/v1/terminatejobs": "TerminateJobs",
    "/v1/terminateservicejob": "TerminateServiceJob",
    "/v1/terminateservicejobs": "TerminateServiceJobs",
    "/v1/updatecomputeenvironment": "UpdateComputeEnvironment",
    "/v1/updateconsumableresource": "UpdateConsumableResource",
    "/v1/updatejobqueue": "UpdateJobQueue",
    "/v1/updatequotashare": "UpdateQuotaShare",
    "/v1/updateschedulingpolicy": "UpdateSchedulingPolicy",
    "/v1/updateserviceenvironment": "UpdateServiceEnvironment",
    "/v1/updateservicejob": "UpdateServiceJob",
}
#: The operations of ``/v1/tags/{resourceArn}``, by HTTP method.
_TAG_OPERATIONS = {"POST": "TagResource", "DELETE": "UntagResource"}


@dataclass
class RecordedCall:
    """A request the proxy received.

    Attributes:
        operation: The AWS operation (``"SubmitJob"``), or the path if unknown.
        body: The parsed JSON body (``{}`` if none), with environment and parameter values
            masked (``"***"``).
        status: The HTTP status answered (0 if the response was dropped).
        peer: The client's ``(host, port)``: one per TCP connection.
        outcome: ``"forwarded"``, ``"injected"``, ``"throttled"``, ``"dropped"`` or ``"rejected"``.
        at: ``time.monotonic()`` when it arrived.
        access_key_id: The access key id the request was signed with (from its
            ``Authorization`` header), to tell which credentials a client used.
    """

    operation: str
    body: dict[str, Any]
    status: int
    peer: tuple[str, int] | None
    outcome: str
    at: float
    access_key_id: str | None = None


class CallLog:
    """The latest ``max_calls`` calls, and exact counts of all of them (thread-safe).

    Args:
        max_calls: How many calls to keep (older ones are dropped; counts stay exact).

    Raises:
        ValueError: ``max_calls`` is negative.
    """

    def __init__(self, max_calls: int = 10_000) -> None:
        if isinstance(max_calls, bool) or not isinstance(max_calls, int) or max_calls < 0:
            raise ValueError("max_calls must be an int >= 0")
        self._lock = threading.Lock()
        self._calls: deque[RecordedCall] = deque(maxlen=max_calls)
        self._counts: Counter[tuple[str, str]] = Counter()
        self._peers: set[tuple[str, int]] = set()
        self._in_flight: Counter[str] = Counter()
        self._peaks: Counter[str] = Counter()

    @property
    def max_calls(self) -> int:
        """How many calls are kept."""
        return self._calls.maxlen or 0

    def record(self, call: RecordedCall) -> None:
        """Add a call (its body is expected masked already)."""
        with self._lock:
            self._calls.append(call)
            self._counts[call.operation, call.outcome] += 1
            if call.peer is not None:
                self._peers.add(call.peer)

    def enter(self, operation: str) -> None:
        """A call of ``operation`` arrived: it is in flight until :meth:`leave`."""
        with self._lock:
            self._in_flight[operation] += 1
            self._peaks[operation] = max(self._peaks[operation], self._in_flight[operation])

    def leave(self, operation: str) -> None:
        """A call of ``operation`` was answered, dropped or abandoned."""
        with self._lock:
            self._in_flight[operation] -= 1
            if self._in_flight[operation] <= 0:
                del self._in_flight[operation]

    def in_flight(self, operation: str) -> int:
        """Calls of ``operation`` being served now."""
        with self._lock:
            return self._in_flight[operation]

    def peak(self, operation: str) -> int:
        """The most calls of ``operation`` ever served at once (since :meth:`clear`)."""
        with self._lock:
            return self._peaks[operation]

    def calls(self) -> list[RecordedCall]:
        """A copy of the calls kept, oldest first."""
        with self._lock:
            return list(self._calls)

    def count(self, operation: str | None = None, *, outcome: str | None = None) -> int:
        """How many calls (of ``operation``, with ``outcome``) were ever received."""
        with self._lock:
            return sum(
                n
                for (op, out), n in self._counts.items()
                if (operation is None or op == operation) and (outcome is None or out == outcome)
            )

    def counts(self) -> Counter[str]:
        """Calls ever received, per operation."""
        with self._lock:
            totals: Counter[str] = Counter()
            for (op, _), n in self._counts.items():
                totals[op] += n
            return totals

    def peers(self) -> set[tuple[str, int]]:
        """The distinct client connections (host, port) ever seen."""
        with self._lock:
            return set(self._peers)

    def clear(self) -> None:
        """Forget every call, count, peer and peak (the peaks restart from the calls in flight)."""
        with self._lock:
            self._calls.clear()
            self._counts.clear()
            self._peers.clear()
            self._peaks = Counter(self._in_flight)


def mask_secrets(value: Any) -> Any:
    """A copy of a JSON value with environment values and parameter values masked.

    Every ``environment`` / ``env`` list (SubmitJob's overrides, job definitions' container,
    ECS and EKS properties, multi-node overrides) keeps its names and gets ``"value": "***"``;
    every ``parameters`` map keeps its keys and gets ``"***"`` values; a service job's
    ``serviceRequestPayload`` becomes ``"***"``.

    Args:
        value: A parsed JSON body.

    Returns:
        The masked copy.
    """
    if isinstance(value, dict):
        return {key: _mask_member(key, member) for key, member in value.items()}
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    return value


def _mask_member(key: Any, value: Any) -> Any:
    if key in _ENV_KEYS and isinstance(value, list):
        return [
            {**mask_secrets(item), "value": MASK}
            if isinstance(item, dict) and "value" in item
            else mask_secrets(item)
            for item in value
        ]
    if key == "parameters" and isinstance(value, dict):
        return dict.fromkeys(value, MASK)
    if key == "serviceRequestPayload" and isinstance(value, str):
        return MASK  # a SageMaker request: its Environment and HyperParameters may be secrets
    return mask_secrets(value)


def operation_of(request: web.Request) -> str:
    """The AWS operation a request calls (the path if unknown)."""
    target = request.headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    path = request.path.rstrip("/").lower()
    if path in _BATCH_OPERATIONS:
        return _BATCH_OPERATIONS[path]
    if path.startswith("/v1/tags/"):
        return _TAG_OPERATIONS.get(request.method, "ListTagsForResource")
    return request.path


def access_key_id(authorization: str) -> str | None:
    """The access key id of a SigV4 ``Authorization`` header."""
    marker = "Credential="
    if marker not in authorization:
        return None
    return authorization.split(marker, 1)[1].split("/", 1)[0] or None
