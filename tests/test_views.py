"""The typed infrastructure views keep everything: every member of botocore's shapes, and ``raw``.

* Each view (``JobQueue``, ``ComputeEnvironment``, ``JobDefinition`` and their parts) has a field
  for every member of its botocore shape: walked from botocore's installed model.
* The shape-driven generator of ``tests/_shapes.py`` (the one ``tests/test_details.py`` uses for
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
from pydantic import BaseModel

from aws_batch_async import (
    ComputeEnvironment,
    ComputeEnvironmentOrder,
    ComputeResources,
    JobDefinition,
    JobKind,
    JobQueue,
    JobStateTimeLimitAction,
    OpenEnum,
    Platform,
)
from aws_batch_async._infra import (
    ComputeScalingPolicy,
    Ec2Configuration,
    EcsSettings,
    EksAccessEntry,
    EksConfiguration,
    LaunchTemplate,
    LaunchTemplateOverride,
    ManagedInstancesProvider,
    ServiceEnvironmentOrder,
    UpdatePolicy,
)
from aws_batch_async._lift import platform_of

from ._shapes import SECRET, SEED, SERVICE, ShapeSampler, output_member, samples

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
