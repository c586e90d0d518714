"""The public face: every exported name, and nothing private leaking."""

from __future__ import annotations

import aws_batch_async
import aws_batch_async.testing

EXPECTED = {
    "RerunResponse",
    "array_index",
    "ArrayProperties",
    "AttemptDetail",
    "BatchAPIError",
    "BatchConfig",
    "BatchConnectionError",
    "CallTimeoutError",
    "BatchError",
    "BatchService",
    "ConfigurationError",
    "EvaluateOnExit",
    "CapacityUsage",
    "NodeSummary",
    "RetryStrategy",
    "RetryRule",
    "ResourceRequirement",
    "NodeRangeProperty",
    "NodeProperties",
    "NodeDetails",
    "NetworkInterface",
    "LogConfiguration",
    "JobTimeout",
    "EksProperties",
    "EksPodProperties",
    "EksMetadata",
    "EksContainerResources",
    "EksContainerDetail",
    "EksAttemptDetail",
    "EksAttemptContainer",
    "EcsTaskDetails",
    "EcsProperties",
    "EcsContainerDetail",
    "ContainerDetail",
    "ConsumableResourceProperties",
    "ConsumableResource",
    "JobStuckError",
    "MalformedResponseError",
    "RegisteredJobDefinition",
    "JobDefinition",
    "StuckReason",
    "QueueUtilization",
    "QueuedJob",
    "JobStateTimeLimitAction",
    "JobQueueSnapshot",
    "JobQueue",
    "JobDiagnosis",
    "ComputeResources",
    "ComputeEnvironmentOrder",
    "ComputeEnvironment",
    "BulkStopResult",
    "ServiceJobAttempt",
    "ServiceJobDetail",
    "ServiceJobRequest",
    "ServiceJobRetryStrategy",
    "ServiceJobSummary",
    "ServiceResourceId",
    "NodeOverride",
    "JobKind",
    "ContainerJobDefinition",
    "EcsDefinitionContainer",
    "EcsJobDefinition",
    "EksDefinitionContainer",
    "EksJobDefinition",
    "MultiNodeJobDefinition",
    "NodeDefinitionContainer",
    "NodeRangeDefinition",
    "ComputeScalingPolicy",
    "Ec2Configuration",
    "EcsSettings",
    "EksAccessEntry",
    "EksConfiguration",
    "LaunchTemplate",
    "LaunchTemplateOverride",
    "ManagedInstancesProvider",
    "ServiceEnvironmentOrder",
    "UpdatePolicy",
    "AllocationStrategy",
    "ComputeEnvironmentType",
    "ComputeResourceType",
    "JobDefinitionType",
    "JobQueueType",
    "OpenEnum",
    "OrchestrationType",
    "Platform",
    "ResourceState",
    "ResourceStatus",
    "JobDefinitionNotFoundError",
    "EksPodOverride",
    "EksContainerOverride",
    "EcsContainerOverride",
    "EventsConfig",
    "JobDependency",
    "JobDetail",
    "JobFailedError",
    "JobNotFoundError",
    "JobRequest",
    "JobResponse",
    "JobStatus",
    "JobSummary",
    "LogEvent",
    "PollPolicy",
    "ServiceClosedError",
    "SubmitJobsError",
    "SubmitOutcomeUnknownError",
    "SubmitRetry",
    "ThrottlingError",
    "WaitTimeoutError",
    "__version__",
    # A job's whole life (run_job): why it failed, resubmitting with changes
    "FailureKind",
    "JobFailure",
    "ResubmitPolicy",
    "scale_memory",
    "scale_vcpus",
    "to_queue",
    "with_env",
}


def test_all_lists_the_public_names() -> None:
    assert set(aws_batch_async.__all__) == EXPECTED
    for name in aws_batch_async.__all__:
        assert hasattr(aws_batch_async, name), name
        assert not name.startswith("_") or name == "__version__"


def test_exported_classes_claim_the_public_module() -> None:
    # Users should see aws_batch_async.X in reprs and docs, not the private module path,
    # except where a class is defined in a private module (then it must be re-exported).
    for name in aws_batch_async.__all__:
        obj = getattr(aws_batch_async, name)
        module = getattr(obj, "__module__", "aws_batch_async")
        assert module.startswith("aws_batch_async"), (name, module)


def test_testing_namespace() -> None:
    for name in aws_batch_async.testing.__all__:
        assert hasattr(aws_batch_async.testing, name), name
    assert {"BatchProxy", "LocalBatch", "MotoServer", "create_batch_infrastructure"} <= set(
        aws_batch_async.testing.__all__
    )


def test_library_import_stays_light() -> None:
    import subprocess
    import sys

    # aiobotocore imports httpx (and so rich) when it is installed: count what we add.
    code = (
        "import sys, aiobotocore.session, aiobotocore.config; before = set(sys.modules); "
        "import aws_batch_async; new = set(sys.modules) - before; "
        "heavy = [m for m in ('typer', 'rich', 'moto', 'boto3', 'aioboto3') if m in new]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_api_reference_lists_every_public_name() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text()
    listed = {
        line.split("aws_batch_async.", 1)[1].strip()
        for line in page.splitlines()
        if line.startswith("::: aws_batch_async.")
    }
    missing = sorted(set(aws_batch_async.__all__) - listed - {"__version__"})
    assert not missing, missing
