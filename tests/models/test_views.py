"""The typed infrastructure views keep everything: every member of botocore's shapes, and ``raw``.

* Each view (``JobQueue``, ``ComputeEnvironment``, ``JobDefinition`` and their parts) has a field
  for every member of its botocore shape: walked from botocore's installed model.
* The shape-driven generator of ``tests/_shapes.py`` (the one ``tests/models/test_job_parts.py``
uses for
  ``JobDetail``) writes :data:`SAMPLES` answers per shape, every enum value included: each parses,
  its typed fields hold AWS's values, ``raw`` is the answer, and no repr or dump shows an
  environment value.
* ``register_job_definition`` takes every kind of job definition as a typed model.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.model import ListShape, MapShape, Shape, StringShape, StructureShape
from botocore.validate import ParamValidator
from pydantic import BaseModel, ValidationError

from aws_batch_async import (
    BatchConfig,
    BatchService,
    ComputeEnvironment,
    ComputeEnvironmentOrder,
    ComputeResources,
    ComputeScalingPolicy,
    ContainerJobDefinition,
    Ec2Configuration,
    EcsDefinitionContainer,
    EcsJobDefinition,
    EcsSettings,
    EksAccessEntry,
    EksConfiguration,
    EksDefinitionContainer,
    EksJobDefinition,
    JobDefinition,
    JobKind,
    JobQueue,
    JobStateTimeLimitAction,
    LaunchTemplate,
    LaunchTemplateOverride,
    ManagedInstancesProvider,
    MultiNodeJobDefinition,
    NodeDefinitionContainer,
    NodeRangeDefinition,
    OpenEnum,
    Platform,
    ServiceEnvironmentOrder,
    UpdatePolicy,
)
from aws_batch_async._models.aws_enums import _PSEUDO_MEMBERS
from aws_batch_async._models.job_kinds import platform_of
from aws_batch_async.testing import BatchInfrastructure, BatchProxy, MotoServer

from .._shapes import SECRET, SEED, SERVICE, ShapeSampler, output_member, samples

#: Answers generated per shape.
SAMPLES = 1000

#: Each view and the botocore shape whose every member it has a field for.
COMPLETE: list[tuple[type[BaseModel], str]] = [
    (JobQueue, "JobQueueDetail"),
    (ComputeEnvironmentOrder, "ComputeEnvironmentOrder"),
    (ServiceEnvironmentOrder, "ServiceEnvironmentOrder"),
    (JobStateTimeLimitAction, "JobStateTimeLimitAction"),
    (ComputeEnvironment, "ComputeEnvironmentDetail"),
    (ComputeResources, "ComputeResource"),
    (LaunchTemplate, "LaunchTemplateSpecification"),
    (LaunchTemplateOverride, "LaunchTemplateSpecificationOverride"),
    (Ec2Configuration, "Ec2Configuration"),
    (ComputeScalingPolicy, "ComputeScalingPolicy"),
    (ManagedInstancesProvider, "ManagedInstancesProvider"),
    (UpdatePolicy, "UpdatePolicy"),
    (EksConfiguration, "EksConfiguration"),
    (EksAccessEntry, "EksAccessEntry"),
    (EcsSettings, "EcsSettings"),
    (JobDefinition, "JobDefinition"),
]

#: Each view, the operation and output member listing its answers.
VIEWS: list[tuple[type[BaseModel], str, str]] = [
    (JobQueue, "DescribeJobQueues", "jobQueues"),
    (ComputeEnvironment, "DescribeComputeEnvironments", "computeEnvironments"),
    (JobDefinition, "DescribeJobDefinitions", "jobDefinitions"),
]


def aliases(model: type[BaseModel]) -> dict[str, str]:
    """AWS's member name of each field of ``model`` -> the field's name."""
    return {field.alias or name: name for name, field in model.model_fields.items()}


def enum_shapes(shape: Shape, seen: set[str] | None = None) -> dict[str, list[str]]:
    """Every enum shape reachable from ``shape``, with its values."""
    seen = set() if seen is None else seen
    if shape.name in seen:
        return {}
    seen.add(shape.name)
    if isinstance(shape, StringShape) and shape.enum:
        return {shape.name: list(shape.enum)}
    found: dict[str, list[str]] = {}
    children: list[Shape] = []
    if isinstance(shape, StructureShape):
        children = list(shape.members.values())
    elif isinstance(shape, ListShape):
        children = [shape.member]
    elif isinstance(shape, MapShape):
        children = [shape.value]
    for child in children:
        found.update(enum_shapes(child, seen))
    return found


@pytest.mark.parametrize(("model", "shape"), COMPLETE, ids=[s for _, s in COMPLETE])
def test_every_member_of_the_shape_has_a_field(model: type[BaseModel], shape: str) -> None:
    botocore_shape = SERVICE.shape_for(shape)
    assert isinstance(botocore_shape, StructureShape)
    missing = set(botocore_shape.members) - set(aliases(model))
    assert not missing, f"{model.__name__} lacks {sorted(missing)}"


@pytest.mark.parametrize(("model", "operation", "member"), VIEWS, ids=[v[1] for v in VIEWS])
def test_every_answer_the_model_allows_parses_and_keeps_everything(
    model: type[BaseModel], operation: str, member: str
) -> None:
    shape = output_member(operation, member)
    # Nested required members are kept: these parts (queue order, time-limit actions) are
    # always whole in AWS's answers, unlike a job's.
    sampler = ShapeSampler(SEED + 7, nested_required=1.0)
    names = aliases(model)
    assert isinstance(shape, StructureShape)
    members = shape.members
    parsed = 0
    for answer in samples(shape, SAMPLES, SEED, sampler):
        view: Any = model.model_validate(answer)
        parsed += 1
        assert view.raw == answer
        assert model.model_validate(view.raw) == view
        for key, value in answer.items():
            field = names.get(key)
            if field is None:
                continue  # a member AWS may add one day
            typed = getattr(view, field)
            if isinstance(value, (str, int, bool)):
                assert typed == value, key
            member_shape = members[key]
            if isinstance(typed, OpenEnum) and isinstance(member_shape, StringShape):
                assert typed.is_known == bool(member_shape.enum), key
            if isinstance(typed, BaseModel):
                assert typed.model_dump(by_alias=True, exclude_defaults=True).keys() <= set(
                    value
                ), key
        shown = repr(view) + repr(view.raw) + view.model_dump_json()
        assert SECRET not in shown
    assert parsed == SAMPLES
    # Every value of every enum under the shape was written (and parsed) at least once.
    for name, values in enum_shapes(shape).items():
        assert sampler.enums.get(name) == set(values), name


def test_job_definitions_keep_each_kind_s_properties() -> None:
    shape = output_member("DescribeJobDefinitions", "jobDefinitions")
    kinds: set[JobKind] = set()
    for answer in samples(shape, SAMPLES, SEED + 1, ShapeSampler(SEED + 1, nested_required=1.0)):
        definition = JobDefinition.model_validate(answer)
        kinds.add(definition.kind)
        container = answer.get("containerProperties")
        if container is not None:
            assert definition.container_properties is not None
            assert definition.container_properties.image == container.get("image")
            assert definition.container_properties.job_role_arn == container.get("jobRoleArn")
            log = container.get("logConfiguration")
            if log is not None:
                assert definition.container_properties.log_configuration is not None
                assert definition.container_properties.log_configuration.log_driver == log.get(
                    "logDriver"
                )
        retry = answer.get("retryStrategy")
        if retry is not None:
            assert definition.retry_strategy is not None
            assert definition.retry_strategy.attempts == retry.get("attempts")
            rules = retry.get("evaluateOnExit", [])
            assert len(definition.retry_strategy.evaluate_on_exit) == len(rules)
        resources = answer.get("consumableResourceProperties")
        if resources is not None:
            assert definition.consumable_resource_properties is not None
        eks = answer.get("eksProperties", {}).get("podProperties")
        if eks is not None:
            assert definition.eks_properties is not None
            assert definition.eks_properties.pod_properties is not None
        ecs = answer.get("ecsProperties")
        if ecs is not None:
            assert definition.ecs_properties is not None
            tasks = ecs.get("taskProperties", [])
            assert len(definition.ecs_properties.task_properties) == len(tasks)
        nodes = answer.get("nodeProperties")
        if nodes is not None:
            assert definition.node_properties is not None
            assert definition.num_nodes == nodes.get("numNodes")
        assert definition.platform == platform_of(answer)
        assert definition.platform_capabilities == answer.get("platformCapabilities", [])
    assert kinds == set(JobKind)


def test_unknown_values_in_infrastructure_answers_are_kept() -> None:
    queue = JobQueue.model_validate(
        {
            "jobQueueName": "q",
            "jobQueueArn": "arn:q",
            "state": "PAUSED",
            "status": "MIGRATING",
            "priority": 1,
            "jobQueueType": "LAMBDA",
            "computeEnvironmentOrder": [],
            "serviceEnvironmentOrder": [{"order": 1, "serviceEnvironment": "se"}],
        }
    )
    assert (queue.state, queue.status, queue.job_queue_type) == ("PAUSED", "MIGRATING", "LAMBDA")
    assert queue.service_environment_order[0].service_environment == "se"
    env = ComputeEnvironment.model_validate(
        {
            "computeEnvironmentName": "ce",
            "computeEnvironmentArn": "arn:ce",
            "type": "SERVERLESS",
            "containerOrchestrationType": "NOMAD",
            "computeResources": {
                "type": "ECS_MANAGED_INSTANCES",
                "allocationStrategy": "CHEAPEST_GREENEST",
                "maxvCpus": 8,
            },
        }
    )
    assert env.type == "SERVERLESS"
    assert env.container_orchestration_type == "NOMAD"
    assert env.compute_resources is not None
    assert env.compute_resources.type == "ECS_MANAGED_INSTANCES"
    assert env.compute_resources.allocation_strategy == "CHEAPEST_GREENEST"
    assert not env.compute_resources.is_fargate
    definition = JobDefinition.model_validate(
        {
            "jobDefinitionName": "d",
            "jobDefinitionArn": "arn:d:1",
            "revision": 1,
            "type": "service",
            "platformCapabilities": ["MANAGED_INSTANCES"],
        }
    )
    assert definition.type == "service"
    assert definition.platform is Platform.MANAGED_INSTANCES


def test_raw_is_read_only_and_parameter_values_are_masked() -> None:
    answer = {
        "jobDefinitionName": "d",
        "jobDefinitionArn": "arn:d:1",
        "revision": 1,
        "type": "container",
        "parameters": {"token": f"{SECRET}-p"},
        "containerProperties": {
            "image": "busybox",
            "environment": [{"name": "KEY", "value": f"{SECRET}-e"}],
        },
    }
    definition = JobDefinition.model_validate(answer)
    assert definition.raw["containerProperties"]["environment"][0]["value"] == f"{SECRET}-e"
    assert SECRET not in repr(definition) + repr(definition.raw)
    with pytest.raises(TypeError):
        definition.raw["revision"] = 2  # type: ignore[index]
    assert "raw" not in json.loads(definition.model_dump_json())


# ---------------------------------------------------------------------------------------------
# Registering every kind


ROLE = "arn:aws:iam::123456789012:role/exec"

TYPED_DEFINITIONS: list[BaseModel] = [
    ContainerJobDefinition(
        name="managed-instances",
        image="busybox",
        vcpus=2,
        memory_mib=4096,
        platform="MANAGED_INSTANCES",
        consumable_resources={"licence": 1},
        scheduling_priority=5,
    ),
    EcsJobDefinition(
        name="ecs-task",
        containers=[
            EcsDefinitionContainer(name="app", image="app:1", command=["run"], vcpus=1),
            EcsDefinitionContainer(name="log", image="fluent-bit", essential=False, memory_mib=512),
        ],
        platform=Platform.FARGATE,
        task_role_arn=ROLE,
        execution_role_arn=ROLE,
        retry_attempts=2,
    ),
    EksJobDefinition(
        name="eks-pod",
        containers=[
            EksDefinitionContainer(
                name="main",
                image="busybox",
                command=["sleep"],
                args=["1"],
                vcpus=0.5,
                memory_mib=1024,
                environment={"STAGE": f"{SECRET}-eks"},
            )
        ],
        service_account_name="batch",
        namespace="jobs",
        labels={"team": "data"},
    ),
    MultiNodeJobDefinition(
        name="mnp",
        num_nodes=4,
        main_node=0,
        node_ranges=[
            NodeRangeDefinition(
                target_nodes="0:",
                container=NodeDefinitionContainer(
                    image="mpi:1", vcpus=4, memory_mib=8192, instance_type="c5.xlarge"
                ),
            )
        ],
        timeout_seconds=600,
    ),
]
EXPECTED_KINDS = [JobKind.CONTAINER, JobKind.ECS, JobKind.EKS, JobKind.MULTINODE]


@pytest.mark.parametrize("definition", TYPED_DEFINITIONS, ids=lambda d: type(d).__name__)
def test_typed_definitions_are_what_botocore_takes(definition: Any) -> None:
    params = definition.to_api()
    shape = SERVICE.operation_model("RegisterJobDefinition").input_shape
    assert shape is not None
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), report.generate_report()
    assert SECRET not in repr(definition)


async def test_register_every_kind_and_read_it_back(
    config: BatchConfig, moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    # moto refuses ECS-properties definitions: the kind emulation of LocalBatch's proxy keeps them.
    with BatchProxy(moto_server.url, emulate_kinds=True) as kinds:
        async with BatchService(config.model_copy(update={"endpoint_url": kinds.url})) as batch:
            for definition, kind in zip(TYPED_DEFINITIONS, EXPECTED_KINDS, strict=True):
                registered = await batch.register_job_definition(definition)  # type: ignore[arg-type]
                read = await batch.latest_job_definition(registered.name)
                assert read is not None
                assert read.kind is kind, registered.name
                assert read.raw["jobDefinitionName"] == registered.name
            await batch.register_job_definition(
                name="keywords",
                image="busybox",
                vcpus=1,
                memory_mib=2048,
                platform="MANAGED_INSTANCES",
            )  # the keyword arguments of a container definition take the new platform too
            by_name = {d.name: d async for d in batch.describe_job_definitions()}
    assert by_name["keywords"].platform is Platform.MANAGED_INSTANCES
    managed = by_name["managed-instances"]
    assert managed.platform is Platform.MANAGED_INSTANCES
    assert managed.container_properties is not None
    assert managed.container_properties.image == "busybox"
    assert managed.resources.vcpus == 2
    ecs = by_name["ecs-task"]
    assert ecs.platform is Platform.FARGATE
    assert ecs.ecs_properties is not None
    task = ecs.ecs_properties.task_properties[0]
    assert [c.name for c in task.containers] == ["app", "log"]
    assert task.task_role_arn == ROLE
    assert ecs.retry_strategy is not None
    assert ecs.retry_strategy.attempts == 2
    eks = by_name["eks-pod"]
    assert eks.eks_properties is not None
    assert eks.eks_properties.pod_properties is not None
    assert eks.eks_properties.pod_properties.service_account_name == "batch"
    assert SECRET not in repr(eks) + repr(eks.raw)
    mnp = by_name["mnp"]
    assert (mnp.num_nodes, mnp.main_node) == (4, 0)
    assert mnp.node_properties is not None
    assert mnp.node_properties.node_range_properties[0].target_nodes == "0:"


def test_typed_definitions_check_their_fields() -> None:
    with pytest.raises(ValidationError, match="platform"):
        ContainerJobDefinition(name="d", image="i", platform="NOT-A-PLATFORM")
    assert "NOT-A-PLATFORM" not in _PSEUDO_MEMBERS.get(Platform, {})  # refused, never made a member
    with pytest.raises(ValidationError, match="distinct names"):
        EcsJobDefinition(
            name="d",
            containers=[EcsDefinitionContainer(image="a"), EcsDefinitionContainer(image="b")],
        )
    with pytest.raises(ValidationError, match="main_node"):
        MultiNodeJobDefinition(
            name="d",
            num_nodes=2,
            main_node=2,
            node_ranges=[
                NodeRangeDefinition(target_nodes="0:", container=NodeDefinitionContainer(image="i"))
            ],
        )
    with pytest.raises(ValidationError, match="reserved"):
        EksDefinitionContainer(image="i", environment={"AWS_BATCH_X": "1"})
    with pytest.raises(ValidationError, match="Fargate"):
        EcsJobDefinition(
            name="d", containers=[EcsDefinitionContainer(image="i", gpus=1)], platform="FARGATE"
        )
