"""aws-batch-async: an asyncio-native client for AWS Batch.

```python
from aws_batch_async import BatchConfig, BatchService, JobRequest

async with BatchService(BatchConfig(job_queue="q", job_definition="d")) as batch:
    job = await batch.submit_job(JobRequest(command=["echo", "hello"]))
```
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._array_index import array_index

if TYPE_CHECKING:  # loaded on first use: see _LAZY
    from ._arrays import RerunResponse
    from ._bulkstop import BulkStopResult
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
    from ._overrides import EcsContainerOverride, EksContainerOverride, EksPodOverride, NodeOverride
    from ._requests import EvaluateOnExit, JobRequest
    from ._service import BatchService

#: Public names and their private modules, loaded on first use (``aws_batch_async.JobQueue``,
#: or the first internal import of the module), so that ``import aws_batch_async`` imports
#: neither pydantic nor aiobotocore: code inside a job can import :func:`array_index` cheaply.
#: Each of these modules calls ``_public.publish`` as its last statement.
_LAZY: dict[str, str] = {
    "ArrayProperties": "._models",
    "AttemptDetail": "._models",
    "BatchAPIError": "._errors",
    "BatchConfig": "._config",
    "BatchConnectionError": "._errors",
    "BatchError": "._errors",
    "BatchService": "._service",
    "BulkStopResult": "._bulkstop",
    "CapacityUsage": "._models",
    "ComputeEnvironment": "._infra",
    "ComputeEnvironmentOrder": "._infra",
    "ComputeResources": "._infra",
    "ConfigurationError": "._errors",
    "ConsumableResource": "._details",
    "ConsumableResourceProperties": "._details",
    "ContainerDetail": "._details",
    "EcsContainerDetail": "._details",
    "EcsContainerOverride": "._overrides",
    "EcsProperties": "._details",
    "EcsTaskDetails": "._details",
    "EksAttemptContainer": "._details",
    "EksAttemptDetail": "._details",
    "EksContainerDetail": "._details",
    "EksContainerOverride": "._overrides",
    "EksContainerResources": "._details",
    "EksMetadata": "._details",
    "EksPodOverride": "._overrides",
    "EksPodProperties": "._details",
    "EksProperties": "._details",
    "EvaluateOnExit": "._requests",
    "EventsConfig": "._config",
    "JobDefinition": "._jobdefs",
    "JobDefinitionNotFoundError": "._errors",
    "JobDependency": "._models",
    "JobDetail": "._models",
    "JobDiagnosis": "._infra",
    "JobFailedError": "._errors",
    "JobKind": "._details",
    "JobNotFoundError": "._errors",
    "JobQueue": "._infra",
    "JobQueueSnapshot": "._infra",
    "JobRequest": "._requests",
    "JobResponse": "._models",
    "JobStateTimeLimitAction": "._infra",
    "JobStatus": "._models",
    "JobStuckError": "._errors",
    "JobSummary": "._models",
    "JobTimeout": "._details",
    "LogConfiguration": "._details",
    "LogEvent": "._models",
    "MalformedResponseError": "._errors",
    "NetworkInterface": "._details",
    "NodeDetails": "._details",
    "NodeOverride": "._overrides",
    "NodeProperties": "._details",
    "NodeRangeProperty": "._details",
    "NodeSummary": "._models",
    "PollPolicy": "._config",
    "QueueUtilization": "._infra",
    "QueuedJob": "._infra",
    "RegisteredJobDefinition": "._jobdefs",
    "RerunResponse": "._arrays",
    "ResourceRequirement": "._details",
    "RetryRule": "._details",
    "RetryStrategy": "._details",
    "ServiceClosedError": "._errors",
    "StuckReason": "._infra",
    "SubmitJobsError": "._errors",
    "SubmitOutcomeUnknownError": "._errors",
    "SubmitRetry": "._config",
    "ThrottlingError": "._errors",
    "WaitTimeoutError": "._errors",
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
    "RerunResponse",
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
    "array_index",
]


if not TYPE_CHECKING:  # type checkers see the imports above, and no catch-all attribute

    def __getattr__(name: str) -> Any:
        """Load a public name of :data:`_LAZY` on first use (PEP 562)."""
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
        if isinstance(value, type) and value.__module__.startswith("aws_batch_async._"):
            value.__module__ = __name__  # also where ``publish`` of its module did not
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
