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
    from ._failure import FailureKind, JobFailure  # a job's whole life (run_job)
    from ._infra import (
        ComputeEnvironment,
        ComputeEnvironmentOrder,
        JobDiagnosis,
        JobQueue,
        JobQueueSnapshot,
        JobStateTimeLimitAction,
        QueuedJob,
        QueueUtilization,
        ServiceEnvironmentOrder,
        StuckReason,
    )
    from ._infra_parts import (
        ComputeResources,
        ComputeScalingPolicy,
        Ec2Configuration,
        EcsSettings,
        EksAccessEntry,
        EksConfiguration,
        LaunchTemplate,
        LaunchTemplateOverride,
        ManagedInstancesProvider,
        UpdatePolicy,
    )
    from ._jobdef_requests import (
        ContainerJobDefinition,
        EcsDefinitionContainer,
        EcsJobDefinition,
        EksDefinitionContainer,
        EksJobDefinition,
        MultiNodeJobDefinition,
        NodeDefinitionContainer,
        NodeRangeDefinition,
    )
    from ._jobdefs import JobDefinition, RegisteredJobDefinition
    from ._overrides import EcsContainerOverride, EksContainerOverride, EksPodOverride, NodeOverride
    from ._requests import EvaluateOnExit, JobRequest
    from ._resubmit import (  # a job's whole life (run_job)
        ResubmitPolicy,
        scale_memory,
        scale_vcpus,
        to_queue,
        with_env,
    )
    from ._service_job_models import (
        ServiceJobAttempt,
        ServiceJobDetail,
        ServiceJobRequest,
        ServiceJobRetryStrategy,
        ServiceJobSummary,
        ServiceResourceId,
    )

#: Public names whose modules load on first use (``aws_batch_async.JobQueue``, or the service's
#: first call that needs them), so that ``import aws_batch_async`` stays cheap: the name and its
#: private module.
_LAZY: dict[str, str] = {
    "BulkStopResult": "._bulkstop",
    "ComputeEnvironment": "._infra",
    "ComputeEnvironmentOrder": "._infra",
    "ComputeResources": "._infra_parts",
    "ComputeScalingPolicy": "._infra_parts",
    "ContainerJobDefinition": "._jobdef_requests",
    "Ec2Configuration": "._infra_parts",
    "EcsContainerOverride": "._overrides",
    "EcsDefinitionContainer": "._jobdef_requests",
    "EcsJobDefinition": "._jobdef_requests",
    "EcsSettings": "._infra_parts",
    "EksAccessEntry": "._infra_parts",
    "EksConfiguration": "._infra_parts",
    "EksContainerOverride": "._overrides",
    "EksDefinitionContainer": "._jobdef_requests",
    "EksJobDefinition": "._jobdef_requests",
    "EksPodOverride": "._overrides",
    "EvaluateOnExit": "._requests",
    "JobDefinition": "._jobdefs",
    "JobDiagnosis": "._infra",
    "JobQueue": "._infra",
    "JobQueueSnapshot": "._infra",
    "JobRequest": "._requests",
    "JobStateTimeLimitAction": "._infra",
    "LaunchTemplate": "._infra_parts",
    "LaunchTemplateOverride": "._infra_parts",
    "ManagedInstancesProvider": "._infra_parts",
    "MultiNodeJobDefinition": "._jobdef_requests",
    "NodeDefinitionContainer": "._jobdef_requests",
    "NodeOverride": "._overrides",
    "NodeRangeDefinition": "._jobdef_requests",
    "QueueUtilization": "._infra",
    "QueuedJob": "._infra",
    "RegisteredJobDefinition": "._jobdefs",
    "ServiceEnvironmentOrder": "._infra",
    "ServiceJobAttempt": "._service_job_models",
    "ServiceJobDetail": "._service_job_models",
    "ServiceJobRequest": "._service_job_models",
    "ServiceJobRetryStrategy": "._service_job_models",
    "ServiceJobSummary": "._service_job_models",
    "ServiceResourceId": "._service_job_models",
    "StuckReason": "._infra",
    "UpdatePolicy": "._infra_parts",
    # A job's whole life: why it failed, resubmitting with changes (run_job)
    "FailureKind": "._failure",
    "JobFailure": "._failure",
    "ResubmitPolicy": "._resubmit",
    "scale_memory": "._resubmit",
    "scale_vcpus": "._resubmit",
    "to_queue": "._resubmit",
    "with_env": "._resubmit",
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
    "ServiceJobAttempt",
    "ServiceJobDetail",
    "ServiceJobRequest",
    "ServiceJobRetryStrategy",
    "ServiceJobSummary",
    "ServiceResourceId",
    "StuckReason",
    "SubmitJobsError",
    "SubmitOutcomeUnknownError",
    "SubmitRetry",
    "ThrottlingError",
    "UpdatePolicy",
    "WaitTimeoutError",
    "__version__",
    # A job's whole life: why it failed, resubmitting with changes (run_job)
    "FailureKind",
    "JobFailure",
    "ResubmitPolicy",
    "scale_memory",
    "scale_vcpus",
    "to_queue",
    "with_env",
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
