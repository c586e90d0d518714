"""aws-batch-async: an asyncio-native client for AWS Batch.

```python
from aws_batch_async import BatchConfig, BatchService, JobRequest

async with BatchService(BatchConfig(job_queue="q", job_definition="d")) as batch:
    job = await batch.submit_job(JobRequest(command=["echo", "hello"]))
```
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._config import BatchConfig, EventsConfig, PollPolicy, SubmitRetry
from ._details import (
    ConsumableResource,
    ConsumableResourceProperties,
    ContainerDetail,
    EcsContainerDetail,
    EcsProperties,
    EcsTaskDetails,
    EksAttemptContainer,
    EksAttemptDetail,
    EksContainerDetail,
    EksContainerResources,
    EksMetadata,
    EksPodProperties,
    EksProperties,
    JobKind,
    JobTimeout,
    LogConfiguration,
    NetworkInterface,
    NodeDetails,
    NodeProperties,
    NodeRangeProperty,
    ResourceRequirement,
    RetryRule,
    RetryStrategy,
)
from ._errors import (
    BatchAPIError,
    BatchConnectionError,
    BatchError,
    CallTimeoutError,
    ConfigurationError,
    JobDefinitionNotFoundError,
    JobFailedError,
    JobNotFoundError,
    JobStuckError,
    MalformedResponseError,
    ServiceClosedError,
    SubmitJobsError,
    SubmitOutcomeUnknownError,
    ThrottlingError,
    WaitTimeoutError,
)
from ._models import (
    ArrayProperties,
    AttemptDetail,
    CapacityUsage,
    JobDependency,
    JobDetail,
    JobResponse,
    JobStatus,
    JobSummary,
    LogEvent,
    NodeSummary,
)
from ._service import BatchService

if TYPE_CHECKING:  # loaded on first use: see _LAZY
    from ._bulkstop import BulkStopResult
    from ._infra import (
        ComputeEnvironment,
        ComputeEnvironmentOrder,
        ComputeResources,
        JobDiagnosis,
        JobQueue,
        JobQueueSnapshot,
        JobStateTimeLimitAction,
        QueuedJob,
        QueueUtilization,
        StuckReason,
    )
    from ._jobdefs import JobDefinition, RegisteredJobDefinition
    from ._overrides import EcsContainerOverride, EksContainerOverride, EksPodOverride, NodeOverride
    from ._requests import EvaluateOnExit, JobRequest

#: Public names whose modules load on first use (``aws_batch_async.JobQueue``, or the service's
#: first call that needs them), so that ``import aws_batch_async`` stays cheap: the name and its
#: private module.
_LAZY: dict[str, str] = {
    "BulkStopResult": "._bulkstop",
    "ComputeEnvironment": "._infra",
    "ComputeEnvironmentOrder": "._infra",
    "ComputeResources": "._infra",
    "EcsContainerOverride": "._overrides",
    "EksContainerOverride": "._overrides",
    "EksPodOverride": "._overrides",
    "EvaluateOnExit": "._requests",
    "JobDefinition": "._jobdefs",
    "JobDiagnosis": "._infra",
    "JobQueue": "._infra",
    "JobQueueSnapshot": "._infra",
    "JobRequest": "._requests",
    "JobStateTimeLimitAction": "._infra",
    "NodeOverride": "._overrides",
    "QueueUtilization": "._infra",
    "QueuedJob": "._infra",
    "RegisteredJobDefinition": "._jobdefs",
    "StuckReason": "._infra",
}

__version__ = "0.1.0"

__all__ = [
    "ArrayProperties",
    "AttemptDetail",
    "BatchAPIError",
    "BatchConfig",
    "BatchConnectionError",
    "BatchError",
    "BatchService",
    "BulkStopResult",
    "CallTimeoutError",
    "CapacityUsage",
    "ComputeEnvironment",
    "ComputeEnvironmentOrder",
    "ComputeResources",
    "ConfigurationError",
    "ConsumableResource",
    "ConsumableResourceProperties",
    "ContainerDetail",
    "EcsContainerDetail",
    "EcsContainerOverride",
    "EcsProperties",
    "EcsTaskDetails",
    "EksAttemptContainer",
    "EksAttemptDetail",
    "EksContainerDetail",
    "EksContainerOverride",
    "EksContainerResources",
    "EksMetadata",
    "EksPodOverride",
    "EksPodProperties",
    "EksProperties",
    "EvaluateOnExit",
    "EventsConfig",
    "JobDefinition",
    "JobDefinitionNotFoundError",
    "JobDependency",
    "JobDetail",
    "JobDiagnosis",
    "JobFailedError",
    "JobKind",
    "JobNotFoundError",
    "JobQueue",
    "JobQueueSnapshot",
    "JobRequest",
    "JobResponse",
    "JobStateTimeLimitAction",
    "JobStatus",
    "JobStuckError",
    "MalformedResponseError",
    "JobSummary",
    "JobTimeout",
    "LogConfiguration",
    "LogEvent",
    "NetworkInterface",
    "NodeDetails",
    "NodeOverride",
    "NodeProperties",
    "NodeRangeProperty",
    "NodeSummary",
    "PollPolicy",
    "QueueUtilization",
    "QueuedJob",
    "RegisteredJobDefinition",
    "ResourceRequirement",
    "RetryRule",
    "RetryStrategy",
    "ServiceClosedError",
    "StuckReason",
    "SubmitJobsError",
    "SubmitOutcomeUnknownError",
    "SubmitRetry",
    "ThrottlingError",
    "WaitTimeoutError",
    "__version__",
]


if not TYPE_CHECKING:  # type checkers see the imports above, and no catch-all attribute

    def __getattr__(name: str) -> Any:
        """Load a public name of :data:`_LAZY` on first use (PEP 562)."""
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _set_public_module() -> None:
    """Report the public path in tracebacks, reprs and docs, as httpx does (the names of
    :data:`_LAZY` get it when their module loads: ``_base.publish``)."""
    for name in __all__:
        obj = globals().get(name)
        if isinstance(obj, type) and obj.__module__.startswith("aws_batch_async._"):
            obj.__module__ = "aws_batch_async"


_set_public_module()
