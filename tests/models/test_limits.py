"""AWS's limits, refused before any call, and only those: sizes, Integer ranges, tag
characters, share identifiers, endpoints and credentials; and secrets kept out of errors.

The Integer members are derived from botocore's model, so a member AWS adds is not missed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest
from botocore.serialize import create_serializer
from pydantic import ValidationError

from aws_batch_async import (
    BatchConfig,
    BatchService,
    ContainerJobDefinition,
    EcsContainerOverride,
    EksContainerOverride,
    EksPodOverride,
    JobKind,
    JobRequest,
    NodeOverride,
    SubmitRetry,
)
from aws_batch_async._infrastructure.job_definitions import raw_definition_params
from aws_batch_async._models.arguments import check_timeout
from aws_batch_async._models.limits import (
    INT32_MAX,
    INT64_MAX,
    JOB_DEFINITION_MAX_BYTES,
    OVERRIDES_MAX_CHARS,
    SUBMIT_PAYLOAD_MAX_BYTES,
    SUBMIT_TOKEN_LEN,
    SUBMIT_TOKEN_TAG_KEY,
    overrides_chars,
    payload_size,
)
from aws_batch_async._submitting.definition_cache import DefinitionInfo
from aws_batch_async._submitting.params import submit_params
from aws_batch_async._submitting.submitter import TOKEN_TAG_KEY, new_token
from aws_batch_async.testing import BatchProxy

CONFIG = BatchConfig(job_queue="queue", job_definition="definition:1", idempotent_submit=False)
TOKEN_CONFIG = CONFIG.model_copy(update={"idempotent_submit": True})
MNP = DefinitionInfo(kind=JobKind.MULTINODE, num_nodes=4)


@pytest.fixture(scope="module")
def batch_model() -> Any:
    return botocore.session.get_session().get_service_model("batch")


# ---------------------------------------------------------------------------------------------
# Integer members: AWS's Integer is 32 bits, its Long 64 bits


def _numeric_members(model: Any, shape: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            yield from _numeric_members(model, member, f"{path}.{name}")
    elif shape.type_name == "list":
        yield from _numeric_members(model, shape.member, f"{path}[]")
    elif shape.type_name == "map":
        yield from _numeric_members(model, shape.value, f"{path}{{}}")
    elif shape.type_name in ("integer", "long"):
        yield path, shape.type_name


def _node(**fields: Any) -> JobRequest:
    return JobRequest(node_overrides=[NodeOverride(target_nodes="0:", **fields)])


#: Each Integer/Long member of SubmitJob: how a request sets it, and the largest value the
#: library accepts (AWS's own bound where it has one, else the type's); ``None``: never sent.
INTEGER_MEMBERS: dict[str, tuple[Callable[[int], JobRequest], int] | None] = {
    ".schedulingPriorityOverride": (lambda v: JobRequest(scheduling_priority=v), 9999),
    ".arrayProperties.size": (lambda v: JobRequest(array_size=v), 10_000),
    # sent as the VCPU / MEMORY resource requirements, which replace these two
    ".containerOverrides.vcpus": (lambda v: JobRequest(vcpus=v), INT32_MAX),
    ".containerOverrides.memory": (lambda v: JobRequest(memory_mib=v), INT32_MAX),
    ".nodeOverrides.numNodes": (lambda v: JobRequest(num_nodes=v), INT32_MAX),
    ".nodeOverrides.nodePropertyOverrides[].containerOverrides.vcpus": (
        lambda v: _node(vcpus=v),
        INT32_MAX,
    ),
    ".nodeOverrides.nodePropertyOverrides[].containerOverrides.memory": (
        lambda v: _node(memory_mib=v),
        INT32_MAX,
    ),
    # NodeOverride has no consumable resources: the job's own apply to every node
    ".nodeOverrides.nodePropertyOverrides[].consumableResourcePropertiesOverride"
    ".consumableResourceList[].quantity": None,
    ".retryStrategy.attempts": (lambda v: JobRequest(retry_attempts=v), 10),
    ".timeout.attemptDurationSeconds": (lambda v: JobRequest(timeout_seconds=v), INT32_MAX),
    ".consumableResourcePropertiesOverride.consumableResourceList[].quantity": (
        lambda v: JobRequest(consumable_resources={"licenses": v}),
        INT64_MAX,
    ),
}


def test_every_integer_member_of_submit_job_is_covered(batch_model: Any) -> None:
    shape = batch_model.operation_model("SubmitJob").input_shape
    members = dict(_numeric_members(batch_model, shape))
    assert set(members) == set(INTEGER_MEMBERS)
    for path, case in INTEGER_MEMBERS.items():
        if case is not None:
            limit = INT64_MAX if members[path] == "long" else INT32_MAX
            assert case[1] <= limit, path


@pytest.mark.parametrize(
    "path", [path for path, case in INTEGER_MEMBERS.items() if case is not None]
)
def test_integer_members_stop_at_their_bound(path: str) -> None:
    case = INTEGER_MEMBERS[path]
    assert case is not None
    build, bound = case
    request = build(bound)
    info = MNP if "node" in path.lower() else None
    assert str(bound) in json.dumps(submit_params(request, CONFIG, info))
    for beyond in (bound + 1, INT32_MAX + 1, INT64_MAX + 1, 2**64):
        if beyond > bound:
            with pytest.raises(ValidationError):
                build(beyond)


@pytest.mark.parametrize(
    "fields",
    [
        {"timeout_seconds": 2**64},
        {"memory_mib": 2**31},
        {"gpus": 2**31},
        {"vcpus": math.inf},
        {"vcpus": math.nan},
        {"vcpus": 10**400},
        {"consumable_resources": {"r": 2**64}},
    ],
    ids=str,
)
def test_numbers_beyond_aws_types_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=next(iter(fields))):
        JobRequest(**fields)


def test_limits_aws_does_not_have_are_gone() -> None:
    """20,000 vCPUs, 2,000 GPUs and 1,001 nodes (a quota an account may raise) are AWS's call;
    an argument has no length of its own: the request's size is the limit."""
    JobRequest(vcpus=20_000, gpus=2_000)
    JobRequest(num_nodes=1001)
    NodeOverride(target_nodes="0:", command=["x" * 70_000], vcpus=20_000, gpus=2_000)
    EksContainerOverride(args=["x" * 70_000], command=["x" * 70_000])
    EcsContainerOverride(name="main", vcpus=20_000, gpus=2_000)
    with pytest.raises(ValidationError, match=r"payload: .*at least 70,002 bytes") as info:
        JobRequest(command=["x" * 70_000])
    assert [line["type"] for line in info.value.errors()] == ["value_error"]


# ---------------------------------------------------------------------------------------------
# Share identifiers and tags


@pytest.mark.parametrize("share", ["blue", "blue*", "a" * 255, "a" * 255 + "*", "B52"])
def test_share_identifiers_aws_takes(share: str) -> None:
    assert JobRequest(share_identifier=share).share_identifier == share


@pytest.mark.parametrize(
    "share", ["", "*", "blue-team", "blue team", "bl*ue", "blue**", "a" * 256, "équipe"]
)
def test_share_identifiers_aws_refuses(share: str) -> None:
    with pytest.raises(ValidationError, match="share_identifier"):
        JobRequest(share_identifier=share)


@pytest.mark.parametrize(
    "tags",
    [
        {"team name": "data eng"},
        {"a+b=c.d_e:f/g@h-i": "x+y=z.w_v:u/t@s-r"},
        {"équipe": "données"},
        {"k": ""},
    ],
    ids=str,
)
def test_tags_aws_takes(tags: dict[str, str]) -> None:
    assert JobRequest(tags=tags).tags == tags
    assert ContainerJobDefinition(name="d", image="i", tags=tags).tags == tags


@pytest.mark.parametrize(
    "tags",
    [
        {"key\x00": "v"},
        {"key\t": "v"},
        {"key\n": "v"},
        {"key?": "v"},
        {"k": "line\nbreak"},
        {"k": "nul\x00"},
        {"k": "a,b"},
        {"AWS:owner": "v"},
    ],
    ids=repr,
)
def test_tags_aws_refuses(tags: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="tag"):
        JobRequest(tags=tags)
    with pytest.raises(ValidationError, match="tag"):
        ContainerJobDefinition(name="d", image="i", tags=tags)


# ---------------------------------------------------------------------------------------------
# Size limits, measured as sent


def _command_of(chars: int) -> list[str]:
    """A command whose containerOverrides is ``chars`` characters of compact JSON."""
    return ["x" * (chars - len('{"command":[""]}'))]


def test_payload_size_is_what_botocore_sends(batch_model: Any) -> None:
    params = submit_params(
        JobRequest(command=["echo", 'é ünïcode \u2603 "quoted"'], parameters={"p": "v" * 100}),
        CONFIG,
    )
    serializer = create_serializer("rest-json")
    body = serializer.serialize_to_request(params, batch_model.operation_model("SubmitJob"))
    assert payload_size(params) == len(body["body"])


def test_container_overrides_stop_at_8192_characters() -> None:
    params = submit_params(JobRequest(command=_command_of(OVERRIDES_MAX_CHARS)), CONFIG)
    assert overrides_chars(params["containerOverrides"]) == OVERRIDES_MAX_CHARS
    with pytest.raises(ValueError, match=r"containerOverrides: 8,193 characters.*8,192"):
        submit_params(JobRequest(command=_command_of(OVERRIDES_MAX_CHARS + 1)), CONFIG)


def test_overrides_count_environment_and_resources_too() -> None:
    env = {f"VAR_{i}": "v" * 100 for i in range(80)}  # about 9,400 characters with the JSON
    with pytest.raises(ValueError, match="containerOverrides"):
        submit_params(JobRequest(command=["run"], env_vars=env, vcpus=2), CONFIG)


def test_each_node_range_is_an_ecs_override_of_its_own() -> None:
    half = _command_of(5000)
    request = JobRequest(
        node_overrides=[
            NodeOverride(target_nodes="0:1", command=half),
            NodeOverride(target_nodes="2:", command=half),
        ]
    )
    assert len(submit_params(request, CONFIG, MNP)["nodeOverrides"]["nodePropertyOverrides"]) == 2
    big = JobRequest(node_overrides=[NodeOverride(target_nodes="0:", command=_command_of(9000))])
    with pytest.raises(ValueError, match=r"nodePropertyOverrides\[0\]\.containerOverrides"):
        submit_params(big, CONFIG, MNP)


def test_an_ecs_task_counts_all_its_containers() -> None:
    info = DefinitionInfo(kind=JobKind.ECS, containers=(("a", True), ("b", False)))
    half = _command_of(5000)
    one = JobRequest(ecs_containers=[EcsContainerOverride(name="a", command=half)])
    submit_params(one, CONFIG, info)
    both = JobRequest(
        ecs_containers=[
            EcsContainerOverride(name="a", command=half),
            EcsContainerOverride(name="b", command=half),
        ]
    )
    with pytest.raises(ValueError, match=r"ecsPropertiesOverride\.taskProperties\[0\]"):
        submit_params(both, CONFIG, info)


def test_the_text_alone_is_refused_when_the_request_is_built() -> None:
    """No kind needed: what the request's strings weigh is a floor of any kind's payload."""
    for fields in (
        {"parameters": {"p": "x" * 31_000}},
        {"env_vars": {"A": "x" * 20_000}, "tags": {"t": "v"}, "command": ["y" * 11_000]},
        {"eks": {"containers": [{"name": "main", "args": ["x" * 31_000]}]}},
        {"node_overrides": [{"target_nodes": "0:", "env_vars": {"E": "x" * 31_000}}]},
    ):
        with pytest.raises(ValidationError, match="payload"):
            JobRequest(**fields)
    JobRequest(parameters={"p": "x" * 30_000})  # the floor is below the limit: not refused


def test_eks_pods_do_not_go_through_ecs() -> None:
    """EKS jobs run as pods: ECS's 8,192 characters do not apply (the 30 KiB still does)."""
    info = DefinitionInfo(kind=JobKind.EKS, containers=(("main", True),))
    pod = EksPodOverride(containers=[EksContainerOverride(name="main", args=["x" * 20_000])])
    submit_params(JobRequest(eks=pod), CONFIG, info)
    near = EksPodOverride(containers=[EksContainerOverride(name="main", args=["x" * 30_650])])
    with pytest.raises(ValueError, match="payload"):
        submit_params(JobRequest(eks=near, job_name="n"), CONFIG, info)


def _parameters_of(size: int, config: BatchConfig) -> JobRequest:
    """A request whose SubmitJob payload is ``size`` bytes (with the config's token, if on)."""
    probe = JobRequest(job_name="n", parameters={"p": ""})
    base = payload_size(
        submit_params(probe, config.model_copy(update={"idempotent_submit": False}))
    )
    if config.idempotent_submit:
        base += len(f', "tags": {{"{SUBMIT_TOKEN_TAG_KEY}": "{"0" * SUBMIT_TOKEN_LEN}"}}')
    return JobRequest(job_name="n", parameters={"p": "x" * (size - base)})


def test_the_payload_stops_at_30_kib() -> None:
    exact = submit_params(_parameters_of(SUBMIT_PAYLOAD_MAX_BYTES, CONFIG), CONFIG)
    assert payload_size(exact) == SUBMIT_PAYLOAD_MAX_BYTES
    with pytest.raises(ValueError, match=r"payload: .* 30,721 bytes.*30,720"):
        submit_params(_parameters_of(SUBMIT_PAYLOAD_MAX_BYTES + 1, CONFIG), CONFIG)


def test_the_idempotency_token_counts() -> None:
    exact = _parameters_of(SUBMIT_PAYLOAD_MAX_BYTES, TOKEN_CONFIG)
    params = submit_params(exact, TOKEN_CONFIG)
    params["tags"] = {TOKEN_TAG_KEY: new_token()}  # what the submit path adds
    assert payload_size(params) == SUBMIT_PAYLOAD_MAX_BYTES
    over = _parameters_of(SUBMIT_PAYLOAD_MAX_BYTES + 1, TOKEN_CONFIG)
    with pytest.raises(ValueError, match="idempotency token"):
        submit_params(over, TOKEN_CONFIG)
    submit_params(over, CONFIG)  # the same request fits without the token


def test_the_token_the_size_check_reserves_is_the_submit_paths() -> None:
    assert TOKEN_TAG_KEY == SUBMIT_TOKEN_TAG_KEY
    assert len(new_token()) == SUBMIT_TOKEN_LEN


def test_non_ascii_counts_as_botocore_escapes_it() -> None:
    """``é`` is one character for ECS but six bytes (``\\u00e9``) in botocore's JSON."""
    assert overrides_chars({"command": ["é" * 5200]}) < OVERRIDES_MAX_CHARS
    with pytest.raises(ValueError, match=r"payload: .*at least 31,202 bytes"):
        JobRequest(command=["é" * 5200])
    request = JobRequest(command=["é" * 4000], kind=JobKind.CONTAINER, job_name="n")
    params = submit_params(request, CONFIG)
    assert payload_size(params) > 6 * 4000 > overrides_chars(params["containerOverrides"])


def test_job_definitions_stop_at_24_kib() -> None:
    def definition(chars: int) -> dict[str, Any]:
        return {
            "jobDefinitionName": "d",
            "type": "container",
            "containerProperties": {"image": "i", "command": ["x" * chars]},
        }

    base = payload_size(definition(0))
    exact = definition(JOB_DEFINITION_MAX_BYTES - base)
    assert payload_size(raw_definition_params(exact)) == JOB_DEFINITION_MAX_BYTES
    with pytest.raises(ValueError, match=r"24,577 bytes.*24,576"):
        raw_definition_params(definition(JOB_DEFINITION_MAX_BYTES - base + 1))
    model = ContainerJobDefinition(name="d", image="i", command=["x" * JOB_DEFINITION_MAX_BYTES])
    with pytest.raises(ValueError, match="RegisterJobDefinition"):
        model.to_api()


async def test_a_payload_at_the_limit_is_sent(proxy: BatchProxy, config: BatchConfig) -> None:
    """Refusing only what AWS refuses: 30 KiB exactly, token included, reaches the endpoint."""
    request = _parameters_of(SUBMIT_PAYLOAD_MAX_BYTES, config)
    async with BatchService(config) as batch:
        job = await batch.submit_job(request)
        with pytest.raises(ValueError, match="payload"):
            await batch.submit_job(_parameters_of(SUBMIT_PAYLOAD_MAX_BYTES + 1, config))
    assert job.job_name == "n"
    assert proxy.count("SubmitJob") == 1


# ---------------------------------------------------------------------------------------------
# Configuration: endpoints, credentials, timeouts


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5000",
        "https://batch.us-east-1.amazonaws.com",
        "http://localhost",
        "http://[::1]:8080/path",
        "https://vpce-1a2b.batch.us-east-1.vpce.amazonaws.com.",
    ],
)
def test_endpoint_urls_botocore_takes(url: str) -> None:
    from botocore.utils import is_valid_uri

    assert is_valid_uri(url)
    assert BatchConfig(endpoint_url=url, logs_endpoint_url=url).endpoint_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://",
        "https://",
        "ftp://example.com",
        "example.com",
        "http://host:99999",
        "http://host:0",
        "http://host:port",
        "http://under_score",
        "http://bad host",
        "http://host\n",
        "http://[::zz]:80",
    ],
)
def test_endpoint_urls_are_refused_at_the_config(url: str) -> None:
    for field in ("endpoint_url", "logs_endpoint_url"):
        with pytest.raises(ValidationError, match=field):
            BatchConfig(**{field: url})


def test_endpoint_errors_never_show_the_url() -> None:
    with pytest.raises(ValidationError) as info:
        BatchConfig(endpoint_url="http://user:hunter2@host:99999")
    assert "hunter2" not in str(info.value) + info.value.json()


@pytest.mark.parametrize("bad", ["AKID\r\n", "AKID\n", "AK\x00ID", "AK\tID", "AK\x7fID"])
def test_credentials_with_control_characters_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="access_key_id"):
        BatchConfig(access_key_id=bad, secret_access_key="s")
    with pytest.raises(ValidationError, match="secret_access_key"):
        BatchConfig(access_key_id="AKID", secret_access_key=bad)
    with pytest.raises(ValidationError, match="session_token"):
        BatchConfig(access_key_id="AKID", secret_access_key="s", session_token=bad)


def test_infinite_means_none_where_none_means_never() -> None:
    assert BatchConfig(stuck_after=math.inf).stuck_after is None
    assert SubmitRetry(outage_after=math.inf).outage_after is None
    assert check_timeout(math.inf) == math.inf
    for bad in ({"stuck_after": 10**400}, {"connect_timeout": math.inf}):
        with pytest.raises(ValidationError):
            BatchConfig(**bad)
    with pytest.raises(ValueError, match="timeout"):
        check_timeout(10**400)


# ---------------------------------------------------------------------------------------------
# Secrets out of validation errors: str(), .errors() and .json()

SECRET = "hunter2-s3cr3t"

LEAKY: list[tuple[str, Callable[[], Any]]] = [
    ("env-field", lambda: JobRequest(env_vars={"AWS_BATCH_X": SECRET})),
    ("env-value-type", lambda: JobRequest(env_vars={"A": SECRET, "B": 3})),
    ("parameters-name", lambda: JobRequest(parameters={"": SECRET})),
    ("model-level", lambda: JobRequest(env_vars={"A": SECRET}, depends_on=[{"type": "N_TO_N"}])),
    (
        "combination",
        lambda: JobRequest(env_vars={"A": SECRET}, depends_on=[{"job_id": "j", "type": "N_TO_N"}]),
    ),
    ("extra-field", lambda: JobRequest(parameters={"p": SECRET}, **{"comand": ["typo"]})),
    ("validate", lambda: JobRequest.model_validate({"env_vars": {"A": SECRET}, "gpus": -1})),
    (
        "validate_json",
        lambda: JobRequest.model_validate_json(json.dumps({"env_vars": {"A": SECRET}, "x": 1})),
    ),
    (
        "node-env",
        lambda: JobRequest(node_overrides=[{"target_nodes": "x", "env_vars": {"A": SECRET}}]),
    ),
    ("node-alone", lambda: NodeOverride(target_nodes="bad", env_vars={"A": SECRET})),
    ("eks-env", lambda: EksContainerOverride(name="Bad", env_vars={"A": SECRET})),
    ("ecs-env", lambda: EcsContainerOverride(name="", env_vars={"A": SECRET})),
    (
        "definition-env",
        lambda: ContainerJobDefinition(name="bad name", image="i", environment={"A": SECRET}),
    ),
    (
        "definition-parameters",
        lambda: ContainerJobDefinition(name="d", image="", parameters={"p": SECRET}),
    ),
    ("config-secret", lambda: BatchConfig(secret_access_key=SECRET)),
    (
        "config-profile",
        lambda: BatchConfig(profile="p", access_key_id="AKID", secret_access_key=SECRET),
    ),
    (
        "config-field",
        lambda: BatchConfig(access_key_id="AKID", secret_access_key=SECRET, region=""),
    ),
    ("config-token", lambda: BatchConfig(session_token=SECRET)),
    ("config-from-env", lambda: BatchConfig.from_env({}, secret_access_key=SECRET)),
]


@pytest.mark.parametrize("build", [case[1] for case in LEAKY], ids=[case[0] for case in LEAKY])
def test_validation_errors_never_carry_secret_values(build: Callable[[], Any]) -> None:
    with pytest.raises(ValidationError) as info:
        build()
    error = info.value
    assert error.errors(), "an error with no line would prove nothing"
    for text in (str(error), repr(error.errors()), error.json(), repr(error)):
        assert SECRET not in text
    assert all(line["input"] == "***" for line in error.errors())
    assert error.__context__ is None
    assert error.__cause__ is None


def test_redacted_errors_keep_what_a_caller_needs() -> None:
    with pytest.raises(ValidationError) as info:
        JobRequest(env_vars={"A": SECRET}, timeout_seconds=59, job_name="-bad")
    lines = {line["loc"]: line for line in info.value.errors()}
    assert set(lines) == {("timeout_seconds",), ("job_name",)}
    assert lines[("timeout_seconds",)]["type"] == "greater_than_equal"
    assert lines[("timeout_seconds",)]["ctx"] == {"ge": 60}
    assert "greater than or equal to 60" in lines[("timeout_seconds",)]["msg"]
    assert info.value.title == "JobRequest"


def test_events_config_urls_are_checked() -> None:
    from aws_batch_async import EventsConfig

    assert EventsConfig(queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/q")
    for fields in ({"queue_url": "http://"}, {"queue_url": "q", "endpoint_url": "http://h:1"}):
        with pytest.raises(ValidationError, match="queue_url"):
            EventsConfig(**fields)
    with pytest.raises(ValidationError, match="endpoint_url"):
        EventsConfig(queue_url="http://h/q", endpoint_url="http://h:70000")


@pytest.mark.parametrize(
    "url",
    [
        "http://a.b-c.d",
        "http://-bad.host",
        "http://bad-.host",
        "http://" + "a" * 64 + ".com",
        "http://a..b",
        "http://a.b:80",
        "https://[fe80::1%25eth0]:443",
        "http://1.2.3.4",
        "http://h\t",
    ],
)
def test_hosts_are_judged_as_botocore_judges_them(url: str) -> None:
    """botocore checks the host when a client is created; the config checks it first."""
    from botocore.utils import is_valid_uri

    from aws_batch_async._config import check_endpoint_url

    try:
        check_endpoint_url(url)
    except ValueError:
        ours = False
    else:
        ours = True
    assert ours == bool(is_valid_uri(url))


@pytest.mark.parametrize(
    "fields",
    [
        {"timeout_seconds": 2**31},
        {"memory_mib": 2**31},
        {"gpus": 2**31},
        {"vcpus": math.inf},
        {"retry_attempts": 11},
    ],
    ids=str,
)
def test_job_definitions_stay_within_aws_types(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=next(iter(fields))):
        ContainerJobDefinition(name="d", image="i", **fields)
    bound = {k: (v - 1 if isinstance(v, int) else 4) for k, v in fields.items()}
    if "retry_attempts" not in fields:
        ContainerJobDefinition(name="d", image="i", **bound).to_api()


@pytest.mark.parametrize(
    "region",
    [
        "us-east-1",
        "eu-central-2",
        "local",
        "us-gov-west-1",
        "us east 1",
        "-us",
        "us-",
        "123",
        "us_east_1",
        "us-east-1\n",
        "a" * 64,
        "",
    ],
)
def test_regions_are_judged_as_botocore_judges_them(region: str) -> None:
    """botocore refuses a bad region only when a client is created; the config refuses it."""
    from botocore.exceptions import InvalidRegionError
    from botocore.utils import validate_region_name

    try:
        validate_region_name(region)
    except InvalidRegionError:
        botocore_takes = False
    else:
        # botocore takes "" as no region, and its "$" lets a trailing newline through
        botocore_takes = bool(region) and not region.endswith("\n")
    if botocore_takes:
        assert BatchConfig(region=region).region == region
    else:
        with pytest.raises(ValidationError, match="region"):
            BatchConfig(region=region)
