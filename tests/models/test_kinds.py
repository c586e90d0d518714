"""Every kind of job: the override each kind needs, AWS's rules, and one lookup per definition.

The SubmitJob bodies are checked exactly (through the AWS-faithful proxy, against moto's real
Fargate, EKS and multi-node definitions), and every body the library builds passes botocore's
own parameter validation for SubmitJob (a property test over generated requests of each kind).
"""

from __future__ import annotations

import asyncio
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aws_batch_async import (
    BatchConfig,
    BatchService,
    EcsContainerOverride,
    EksContainerOverride,
    EksPodOverride,
    JobDefinitionNotFoundError,
    JobKind,
    JobRequest,
    NodeOverride,
)
from aws_batch_async._submitting.definition_cache import DefinitionInfo, Platform
from aws_batch_async._submitting.params import submit_params
from aws_batch_async.testing import BatchInfrastructure, BatchProxy

REGION = "us-east-1"
CONFIG = BatchConfig(job_queue="q", job_definition="d")
_SHAPE = (
    botocore.session.get_session().get_service_model("batch").operation_model("SubmitJob")
).input_shape
assert _SHAPE is not None
SUBMIT_SHAPE = _SHAPE

EKS = DefinitionInfo(kind=JobKind.EKS, containers=(("main", True), ("sidecar", True)))
ECS = DefinitionInfo(kind=JobKind.ECS, containers=(("init", False), ("app", True), ("log", True)))
MNP = DefinitionInfo(kind=JobKind.MULTINODE, num_nodes=4)
FARGATE = DefinitionInfo(
    kind=JobKind.CONTAINER, platform=Platform.FARGATE, vcpus=1, memory_mib=2048
)
NEUTRAL = {"command": ["run"], "env_vars": {"K": "v"}, "vcpus": 2, "memory_mib": 4096, "gpus": 1}


def params(request: JobRequest, info: DefinitionInfo | None = None) -> dict[str, Any]:
    body = submit_params(request, CONFIG, info)
    return {k: v for k, v in body.items() if k not in ("jobName", "jobQueue", "jobDefinition")}


# ---------------------------------------------------------------------------------------------
# The override of each kind


def test_container_jobs_use_container_overrides() -> None:
    assert params(JobRequest(**NEUTRAL)) == {
        "containerOverrides": {
            "command": ["run"],
            "environment": [{"name": "K", "value": "v"}],
            "resourceRequirements": [
                {"type": "VCPU", "value": "2"},
                {"type": "MEMORY", "value": "4096"},
                {"type": "GPU", "value": "1"},
            ],
        }
    }


def test_eks_jobs_override_the_pods_first_container_never_container_overrides() -> None:
    assert params(JobRequest(**NEUTRAL), EKS) == {
        "eksPropertiesOverride": {
            "podProperties": {
                "containers": [
                    {
                        "name": "main",
                        "command": ["run"],
                        "env": [{"name": "K", "value": "v"}],
                        "resources": {
                            "limits": {"cpu": "2", "memory": "4096Mi", "nvidia.com/gpu": "1"}
                        },
                    }
                ]
            }
        }
    }
    half = params(JobRequest(vcpus=0.5, container="sidecar"), EKS)
    assert half["eksPropertiesOverride"]["podProperties"]["containers"] == [
        {"name": "sidecar", "resources": {"limits": {"cpu": "0.5"}}}
    ]


def test_eks_pass_through_reaches_image_args_init_containers_and_metadata() -> None:
    request = JobRequest(
        command=["train"],
        eks=EksPodOverride(
            containers=[
                EksContainerOverride(name="main", image="repo/img:2", args=["--fast"]),
                EksContainerOverride(name="sidecar", limits={"memory": "256Mi"}),
            ],
            init_containers=[EksContainerOverride(name="setup", command=["prep"])],
            labels={"team": "ml"},
            annotations={"a/b": "c"},
            namespace="jobs",
        ),
    )
    pod = params(request, EKS)["eksPropertiesOverride"]["podProperties"]
    assert pod["containers"] == [
        {"name": "main", "image": "repo/img:2", "args": ["--fast"], "command": ["train"]},
        {"name": "sidecar", "resources": {"limits": {"memory": "256Mi"}}},
    ]
    assert pod["initContainers"] == [{"name": "setup", "command": ["prep"]}]
    assert pod["metadata"] == {
        "labels": {"team": "ml"},
        "annotations": {"a/b": "c"},
        "namespace": "jobs",
    }


def test_multinode_jobs_use_node_overrides_for_every_node_by_default() -> None:
    body = params(JobRequest(command=["mpirun"], num_nodes=3, instance_type="c5.large"), MNP)
    assert body == {
        "nodeOverrides": {
            "numNodes": 3,
            "nodePropertyOverrides": [
                {
                    "targetNodes": "0:",
                    "containerOverrides": {"command": ["mpirun"]},
                    "instanceTypes": ["c5.large"],
                }
            ],
        }
    }
    assert "containerOverrides" not in body


def test_node_ranges_of_their_own_are_filled_in_by_the_neutral_fields() -> None:
    request = JobRequest(
        env_vars={"K": "v"},
        node_overrides=[
            NodeOverride(target_nodes="0", command=["main"], vcpus=4),
            NodeOverride(target_nodes="1:", command=["worker"], instance_types=["m5.large"]),
        ],
    )
    assert params(request, MNP)["nodeOverrides"]["nodePropertyOverrides"] == [
        {
            "targetNodes": "0",
            "containerOverrides": {
                "command": ["main"],
                "environment": [{"name": "K", "value": "v"}],
                "resourceRequirements": [{"type": "VCPU", "value": "4"}],
            },
        },
        {
            "targetNodes": "1:",
            "containerOverrides": {
                "command": ["worker"],
                "environment": [{"name": "K", "value": "v"}],
            },
            "instanceTypes": ["m5.large"],
        },
    ]


def test_ecs_jobs_override_the_first_essential_container_by_name() -> None:
    body = params(
        JobRequest(command=["serve"], ecs_containers=[EcsContainerOverride(name="log", gpus=1)]),
        ECS,
    )
    assert body == {
        "ecsPropertiesOverride": {
            "taskProperties": [
                {
                    "containers": [
                        {"name": "app", "command": ["serve"]},
                        {"name": "log", "resourceRequirements": [{"type": "GPU", "value": "1"}]},
                    ]
                }
            ]
        }
    }


def test_consumable_resources_and_sequential_dependencies() -> None:
    body = params(
        JobRequest(
            consumable_resources={"licenses": 2},
            array_size=3,
            depends_on=[{"type": "SEQUENTIAL"}],
        )
    )
    assert body["consumableResourcePropertiesOverride"] == {
        "consumableResourceList": [{"consumableResource": "licenses", "quantity": 2}]
    }
    assert body["dependsOn"] == [{"type": "SEQUENTIAL"}]


# ---------------------------------------------------------------------------------------------
# AWS's rules, before any call


@pytest.mark.parametrize(
    ("request_kwargs", "info", "field"),
    [
        ({"instance_type": "c5.large"}, None, "instance_type"),
        ({"num_nodes": 2}, EKS, "num_nodes"),
        ({"node_overrides": [{"target_nodes": "0:"}]}, None, "node_overrides"),
        ({"container": "nope", "command": ["x"]}, EKS, "container"),
        ({"container": "Not_A_DNS_Label", "command": ["x"]}, EKS, "container"),
        ({"container": "app"}, None, "container"),
        ({"eks": {"labels": {"a": "b"}}}, ECS, "eks"),
        ({"ecs_containers": [{"name": "x"}]}, ECS, "ecs_containers"),
        ({"ecs_containers": [{"name": "x"}]}, EKS, "ecs_containers"),
        ({"command": ["x"]}, DefinitionInfo(kind=JobKind.ECS), "container"),
        ({"num_nodes": 2, "node_overrides": [{"target_nodes": "1:2"}]}, MNP, "target_nodes"),
        ({"node_overrides": [{"target_nodes": "3:1"}]}, MNP, "target_nodes"),
        ({"node_overrides": [{"target_nodes": "4:"}]}, MNP, "target_nodes"),
        ({"gpus": 1}, FARGATE, "gpus"),
        ({"vcpus": 3}, FARGATE, "vcpus"),
        ({"vcpus": 0.25, "memory_mib": 4096}, FARGATE, "memory_mib"),
        ({"vcpus": 4, "memory_mib": 31 * 1024}, FARGATE, "memory_mib"),
        ({"vcpus": 8, "memory_mib": 17 * 1024}, FARGATE, "memory_mib"),
        ({"memory_mib": 1000}, FARGATE, "memory_mib"),
        ({"vcpus": 16}, FARGATE, "vcpus"),  # the definition's 2048 MiB is too little for 16
    ],
)
def test_rules_of_each_kind_raise_value_error_naming_the_field(
    request_kwargs: dict[str, Any], info: DefinitionInfo | None, field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        params(JobRequest(**request_kwargs), info)


@pytest.mark.parametrize(
    ("vcpus", "memory"),
    [
        (0.25, 512),
        (0.25, 2048),
        (0.5, 3072),
        (1, 8192),
        (2, 4096),
        (4, 30720),
        (8, 61440),
        (16, 32768),
        (16, 122880),
        (32, 61440),  # 32 vCPUs: botocore's model (tests/models/test_aws_model.py checks the table)
        (32, 122880),
        (32, 249856),
    ],
)
def test_every_fargate_pair_aws_allows_passes(vcpus: float, memory: int) -> None:
    body = params(JobRequest(vcpus=vcpus, memory_mib=memory), FARGATE)
    assert body["containerOverrides"]["resourceRequirements"][1] == {
        "type": "MEMORY",
        "value": str(memory),
    }


# ---------------------------------------------------------------------------------------------
# Every body passes botocore's own validation (property test)

names = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
env = st.dictionaries(
    st.from_regex(r"[A-Z][A-Z0-9_]{0,6}", fullmatch=True), st.text(max_size=8), max_size=3
)
command = st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=3)
resources = {
    "vcpus": st.none() | st.sampled_from([0.25, 0.5, 1, 2, 4]),
    "memory_mib": st.none() | st.sampled_from([512, 1024, 2048, 4096, 8192]),
    "gpus": st.none() | st.integers(0, 4),
}
common = {
    "command": st.none() | command,
    "env_vars": st.none() | env,
    **resources,
    "consumable_resources": st.none()
    | st.dictionaries(names, st.integers(0, 100), min_size=1, max_size=2),
    "timeout_seconds": st.none() | st.integers(60, 10_000),
    "retry_attempts": st.none() | st.integers(1, 10),
    "tags": st.none() | st.dictionaries(names, st.text(max_size=10), min_size=1, max_size=3),
    "parameters": st.none() | st.dictionaries(names, st.text(max_size=10), min_size=1, max_size=3),
}
node = st.fixed_dictionaries(
    {
        "target_nodes": st.sampled_from(["0:", "0", "1:", "0:1", ":2"]),
        "command": st.none() | command,
        "env_vars": st.none() | env,
        "instance_types": st.none() | st.lists(names, min_size=1, max_size=2),
        **resources,
    }
)
eks_container = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["main", "sidecar"]),
        "image": st.none() | names,
        "args": st.none() | st.lists(st.text(max_size=5), max_size=2),
    }
)
eks_pod = st.fixed_dictionaries(
    {
        "containers": st.none() | st.lists(eks_container, max_size=1),
        "labels": st.none() | st.dictionaries(names, names, max_size=2),
        "namespace": st.none() | names,
    }
)
ecs_container = st.fixed_dictionaries({"name": st.just("init"), "command": st.none() | command})
requests_of_kind = {
    JobKind.CONTAINER: st.fixed_dictionaries(common),
    JobKind.MULTINODE: st.fixed_dictionaries(
        {
            **common,
            "num_nodes": st.none() | st.integers(3, 10),
            "instance_type": st.none() | names,
            "node_overrides": st.none() | st.lists(node, min_size=1, max_size=3),
        }
    ),
    JobKind.EKS: st.fixed_dictionaries(
        {
            **common,
            "container": st.none() | st.sampled_from(["main", "sidecar"]),
            "eks": st.none() | eks_pod,
        }
    ),
    JobKind.ECS: st.fixed_dictionaries(
        {
            **common,
            "container": st.none() | st.sampled_from(["app", "log"]),
            "ecs_containers": st.none() | st.lists(ecs_container, max_size=1),
        }
    ),
}
INFOS = {
    JobKind.CONTAINER: DefinitionInfo(kind=JobKind.CONTAINER),
    JobKind.MULTINODE: DefinitionInfo(kind=JobKind.MULTINODE, num_nodes=10),
    JobKind.EKS: EKS,
    JobKind.ECS: ECS,
}


@pytest.mark.parametrize("kind", list(JobKind))
def test_every_submit_body_passes_botocores_validation(kind: JobKind) -> None:
    checked: list[int] = []

    @settings(
        max_examples=300,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(requests_of_kind[kind])
    def check(kwargs: dict[str, Any]) -> None:
        try:
            request = JobRequest(**kwargs)
            body = submit_params(request, CONFIG, INFOS[kind])
        except ValueError:
            return  # a request the rules refuse (e.g. a field set twice) is never sent
        report = ParamValidator().validate(body, SUBMIT_SHAPE)
        assert not report.has_errors(), report.generate_report()
        checked.append(len(body))

    check()
    assert len(checked) >= 150, f"only {len(checked)} of 300 generated requests were valid"


# ---------------------------------------------------------------------------------------------
# Through the proxy, against moto's definitions


async def register(proxy: BatchProxy, **definition: Any) -> str:
    session = botocore.session.get_session()
    client: Any = session.create_client(
        "batch",
        region_name=REGION,
        endpoint_url=proxy.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    response = await asyncio.to_thread(lambda: client.register_job_definition(**definition))
    return str(response["jobDefinitionName"])


async def test_one_lookup_per_definition_shared_by_concurrent_submits(
    batch: BatchService, proxy: BatchProxy, infra: BatchInfrastructure
) -> None:
    fargate = await register(
        proxy,
        jobDefinitionName="fargate-def",
        type="container",
        platformCapabilities=["FARGATE"],
        containerProperties={
            "image": "busybox",
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "2048"},
            ],
            "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
            "networkConfiguration": {"assignPublicIp": "ENABLED"},
        },
    )
    proxy.clear_calls()
    jobs = await asyncio.gather(
        *(
            batch.submit_job(JobRequest(job_definition=fargate, vcpus=0.5, memory_mib=1024))
            for _ in range(5)
        )
    )
    assert len({j.job_id for j in jobs}) == 5
    assert proxy.count("DescribeJobDefinitions") == 1
    await batch.submit_job(JobRequest(job_definition=fargate))
    assert proxy.count("DescribeJobDefinitions") == 1  # cached for the service's life
    with pytest.raises(ValueError, match="memory_mib"):
        await batch.submit_job(JobRequest(job_definition=fargate, vcpus=2, memory_mib=1024))
    with pytest.raises(ValueError, match="gpus"):
        await batch.submit_job(JobRequest(job_definition=fargate, gpus=1))
    assert proxy.count("SubmitJob") == 6


async def test_an_unknown_definition_is_not_found_with_zero_submits(
    batch: BatchService, proxy: BatchProxy
) -> None:
    with pytest.raises(JobDefinitionNotFoundError) as caught:
        await batch.submit_job(JobRequest(job_definition="no-such-def"))
    assert caught.value.job_definition == "no-such-def"
    with pytest.raises(JobDefinitionNotFoundError):
        await batch.submit_jobs([JobRequest(), JobRequest(job_definition="no-such-def:3")])
    assert proxy.count("SubmitJob") == 0


async def test_a_given_kind_skips_the_lookup(config: BatchConfig, proxy: BatchProxy) -> None:
    async with BatchService(
        config.model_copy(update={"job_definition_kind": JobKind.CONTAINER})
    ) as b:
        await b.submit_job(JobRequest(command=["true"]))
    async with BatchService(config) as b:
        await b.submit_job(JobRequest(command=["true"], kind=JobKind.CONTAINER))
    assert proxy.count("DescribeJobDefinitions") == 0
    assert proxy.count("SubmitJob") == 2


async def test_eks_and_multinode_bodies_through_the_proxy(
    batch: BatchService, proxy: BatchProxy, infra: BatchInfrastructure
) -> None:
    eks = await register(
        proxy,
        jobDefinitionName="eks-def",
        type="container",
        eksProperties={
            "podProperties": {
                "containers": [
                    {"name": "main", "image": "busybox"},
                    {"name": "side", "image": "busybox"},
                ]
            }
        },
    )
    mnp = await register(
        proxy,
        jobDefinitionName="mnp-def",
        type="multinode",
        nodeProperties={
            "numNodes": 2,
            "mainNode": 0,
            "nodeRangeProperties": [
                {"targetNodes": "0:", "container": {"image": "busybox", "vcpus": 1, "memory": 128}}
            ],
        },
    )
    proxy.clear_calls()
    await batch.submit_job(
        JobRequest(job_definition=eks, command=["echo"], env_vars={"S": "secret"}, memory_mib=512)
    )
    await batch.submit_job(JobRequest(job_definition=mnp, command=["mpirun"], num_nodes=2))
    eks_body, mnp_body = (c.body for c in proxy.calls if c.operation == "SubmitJob")
    assert "containerOverrides" not in eks_body
    assert eks_body["eksPropertiesOverride"] == {
        "podProperties": {
            "containers": [
                {
                    "name": "main",
                    "command": ["echo"],
                    "env": [{"name": "S", "value": "***"}],  # the proxy's log masks env values
                    "resources": {"limits": {"memory": "512Mi"}},
                }
            ]
        }
    }
    assert mnp_body["nodeOverrides"] == {
        "numNodes": 2,
        "nodePropertyOverrides": [
            {"targetNodes": "0:", "containerOverrides": {"command": ["mpirun"]}}
        ],
    }
