"""aws-batch-async: an asyncio-native client for AWS Batch.

```python
from aws_batch_async import BatchConfig, BatchService, JobRequest

async with BatchService(BatchConfig(job_queue="q", job_definition="d")) as batch:
    job = await batch.submit_job(JobRequest(command=["echo", "hello"]))
```
"""

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


def _set_public_module() -> None:
    """Report the public path in tracebacks, reprs and docs, as httpx does."""
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type) and obj.__module__.startswith("aws_batch_async._"):
            obj.__module__ = "aws_batch_async"


_set_public_module()
