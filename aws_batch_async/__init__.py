"""aws-batch-async: an asyncio-native client for AWS Batch.

```python
from aws_batch_async import BatchConfig, BatchService, JobRequest

async with BatchService(BatchConfig(job_queue="q", job_definition="d")) as batch:
    job = await batch.submit_job(JobRequest(command=["echo", "hello"]))
```
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._aws_enums import (
    AllocationStrategy,
    ComputeEnvironmentType,
    ComputeResourceType,
    JobDefinitionType,
    JobQueueType,
    OpenEnum,
    OrchestrationType,
    Platform,
    ResourceState,
    ResourceStatus,
)
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
        ComputeScalingPolicy,
        Ec2Configuration,
        EcsSettings,
        EksAccessEntry,
        EksConfiguration,
        JobDiagnosis,
        JobQueue,
        JobQueueSnapshot,
        JobStateTimeLimitAction,
        LaunchTemplate,
        LaunchTemplateOverride,
        ManagedInstancesProvider,
        QueuedJob,
        QueueUtilization,
        ServiceEnvironmentOrder,
        StuckReason,
        UpdatePolicy,
    )
    from ._jobdefs import (
        ContainerJobDefinition,
        EcsDefinitionContainer,
        EcsJobDefinition,
        EksDefinitionContainer,
        EksJobDefinition,
        JobDefinition,
        MultiNodeJobDefinition,
        NodeDefinitionContainer,
        NodeRangeDefinition,
        RegisteredJobDefinition,
    )
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
    "ComputeScalingPolicy": "._infra",
    "ContainerJobDefinition": "._jobdefs",
    "Ec2Configuration": "._infra",
    "EcsContainerOverride": "._overrides",
    "EcsDefinitionContainer": "._jobdefs",
    "EcsJobDefinition": "._jobdefs",
    "EcsSettings": "._infra",
    "EksAccessEntry": "._infra",
    "EksConfiguration": "._infra",
    "EksContainerOverride": "._overrides",
    "EksDefinitionContainer": "._jobdefs",
    "EksJobDefinition": "._jobdefs",
    "EksPodOverride": "._overrides",
    "EvaluateOnExit": "._requests",
    "JobDefinition": "._jobdefs",
    "JobDiagnosis": "._infra",
    "JobQueue": "._infra",
    "JobQueueSnapshot": "._infra",
    "JobRequest": "._requests",
    "JobStateTimeLimitAction": "._infra",
    "LaunchTemplate": "._infra",
    "LaunchTemplateOverride": "._infra",
    "ManagedInstancesProvider": "._infra",
    "MultiNodeJobDefinition": "._jobdefs",
    "NodeDefinitionContainer": "._jobdefs",
    "NodeOverride": "._overrides",
    "NodeRangeDefinition": "._jobdefs",
    "QueueUtilization": "._infra",
    "QueuedJob": "._infra",
    "RegisteredJobDefinition": "._jobdefs",
    "ServiceEnvironmentOrder": "._infra",
    "StuckReason": "._infra",
    "UpdatePolicy": "._infra",
}

__version__ = "0.1.0"

__all__ = [
    "AllocationStrategy",
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
    "ComputeEnvironmentType",
    "ComputeResourceType",
    "ComputeResources",
    "ComputeScalingPolicy",
    "ConfigurationError",
    "ConsumableResource",
    "ConsumableResourceProperties",
    "ContainerDetail",
    "ContainerJobDefinition",
    "Ec2Configuration",
    "EcsContainerDetail",
    "EcsContainerOverride",
    "EcsDefinitionContainer",
    "EcsJobDefinition",
    "EcsProperties",
    "EcsSettings",
    "EcsTaskDetails",
    "EksAccessEntry",
    "EksAttemptContainer",
    "EksAttemptDetail",
    "EksConfiguration",
    "EksContainerDetail",
    "EksContainerOverride",
    "EksContainerResources",
    "EksDefinitionContainer",
    "EksJobDefinition",
    "EksMetadata",
    "EksPodOverride",
    "EksPodProperties",
    "EksProperties",
    "EvaluateOnExit",
    "EventsConfig",
    "JobDefinition",
    "JobDefinitionNotFoundError",
    "JobDefinitionType",
    "JobDependency",
    "JobDetail",
    "JobDiagnosis",
    "JobFailedError",
    "JobKind",
    "JobNotFoundError",
    "JobQueue",
    "JobQueueSnapshot",
    "JobQueueType",
    "JobRequest",
    "JobResponse",
    "JobStateTimeLimitAction",
    "JobStatus",
    "JobStuckError",
    "JobSummary",
    "JobTimeout",
    "LaunchTemplate",
    "LaunchTemplateOverride",
    "LogConfiguration",
    "LogEvent",
    "MalformedResponseError",
    "ManagedInstancesProvider",
    "MultiNodeJobDefinition",
    "NetworkInterface",
    "NodeDefinitionContainer",
    "NodeDetails",
    "NodeOverride",
    "NodeProperties",
    "NodeRangeDefinition",
    "NodeRangeProperty",
    "NodeSummary",
    "OpenEnum",
    "OrchestrationType",
    "Platform",
    "PollPolicy",
    "QueueUtilization",
    "QueuedJob",
    "RegisteredJobDefinition",
    "ResourceRequirement",
    "ResourceState",
    "ResourceStatus",
    "RetryRule",
    "RetryStrategy",
    "ServiceClosedError",
    "ServiceEnvironmentOrder",
    "StuckReason",
    "SubmitJobsError",
    "SubmitOutcomeUnknownError",
    "SubmitRetry",
    "ThrottlingError",
    "UpdatePolicy",
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
