"""Models: AWS Batch's real limits, what is sent, how AWS's answers are parsed."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from aws_batch_async import (
    BatchConfig,
    ConfigurationError,
    JobDetail,
    JobRequest,
    JobResponse,
    JobStatus,
    JobSummary,
    PollPolicy,
)
from aws_batch_async._submitting.params import submit_params

CONFIG = BatchConfig(job_queue="queue", job_definition="definition:1")
AWS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")

# (field that must be named in the error, keyword arguments)
BAD_REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("job_name", {"job_name": ""}),
    ("job_name", {"job_name": "-starts-with-dash"}),
    ("job_name", {"job_name": "has space"}),
    ("job_name", {"job_name": "dots.not.allowed"}),
    ("job_name", {"job_name": "a" * 129}),
    ("command", {"command": []}),
    ("command", {"command": "echo hi"}),
    ("env_vars", {"env_vars": {"AWS_BATCH_JOB_ID": "x"}}),
    ("env_vars", {"env_vars": {"aws_batch_custom": "x"}}),
    ("env_vars", {"env_vars": {"": "x"}}),
    ("env_vars", {"env_vars": {"A=B": "x"}}),
    ("env_vars", {"env_vars": {"N": 3}}),
    ("array_size", {"array_size": 1}),
    ("array_size", {"array_size": 10_001}),
    ("depends_on", {"depends_on": [f"job-{i}" for i in range(21)]}),
    ("depends_on", {"depends_on": [{"job_id": "a", "type": "ALL"}], "array_size": 2}),
    ("depends_on", {"depends_on": [""]}),
    ("timeout_seconds", {"timeout_seconds": 59}),
    ("retry_attempts", {"retry_attempts": 0}),
    ("retry_attempts", {"retry_attempts": 11}),
    ("evaluate_on_exit", {"evaluate_on_exit": [{"action": "RETRY"}] * 6}),
    ("evaluate_on_exit", {"evaluate_on_exit": [{"action": "IGNORE"}]}),
    ("evaluate_on_exit", {"evaluate_on_exit": [{"action": "EXIT", "on_exit_code": "1a"}]}),
    ("evaluate_on_exit", {"evaluate_on_exit": [{"action": "EXIT", "on_reason": "x" * 513}]}),
    ("tags", {"tags": {}}),
    ("tags", {"tags": {f"k{i}": "v" for i in range(51)}}),
    ("tags", {"tags": {"k" * 129: "v"}}),
    ("tags", {"tags": {"k": "v" * 257}}),
    ("tags", {"tags": {"aws:reserved": "v"}}),
    ("tags", {"tags": {"aws-batch-async:token": "v"}}),
    ("vcpus", {"vcpus": 0}),
    ("memory_mib", {"memory_mib": 2}),
    ("gpus", {"gpus": -1}),
    ("scheduling_priority", {"scheduling_priority": -1}),
    ("scheduling_priority", {"scheduling_priority": 10_000}),
    ("share_identifier", {"share_identifier": "s" * 256}),
    ("job_queue", {"job_queue": ""}),
    ("job_definition", {"job_definition": ""}),
    ("propagate_tags", {"propagate_tags": "sometimes"}),
    ("unknown_field", {"unknown_field": 1}),
]


@pytest.mark.parametrize(("field", "kwargs"), BAD_REQUESTS, ids=[f for f, _ in BAD_REQUESTS])
def test_bad_request_names_the_field(field: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        JobRequest(**kwargs)
    locations = {str(error["loc"][0]) for error in info.value.errors()}
    assert field in locations, locations
    assert field in str(info.value)


def test_validation_errors_never_echo_secret_values() -> None:
    with pytest.raises(ValidationError) as info:
        JobRequest(env_vars={"AWS_BATCH_X": "hunter2-secret"}, parameters={"": "p-secret"})
    assert "hunter2-secret" not in str(info.value)
    assert "p-secret" not in str(info.value)


def test_limits_at_their_edges_are_accepted() -> None:
    request = JobRequest(
        job_name="a" * 128,
        array_size=10_000,
        depends_on=[f"job-{i}" for i in range(20)],
        timeout_seconds=60,
        retry_attempts=10,
        evaluate_on_exit=[{"action": "retry", "on_exit_code": "1*"}] * 5,
        tags={f"k{i}": "v" * 256 for i in range(50)},
        scheduling_priority=9999,
        share_identifier="s" * 255,
    )
    assert request.array_size == 10_000
    assert request.evaluate_on_exit is not None
    assert request.evaluate_on_exit[0].action == "RETRY"


def test_unset_fields_are_not_sent() -> None:
    params = submit_params(JobRequest(job_name="plain"), CONFIG)
    assert params == {"jobName": "plain", "jobQueue": "queue", "jobDefinition": "definition:1"}


def test_every_field_maps_to_aws_parameters() -> None:
    request = JobRequest(
        job_name="full",
        command=["python", "-c", "print(1)"],
        env_vars={"A": "1", "B": "2"},
        job_queue="other-queue",
        job_definition="other-def",
        parameters={"p": "v"},
        array_size=4,
        depends_on=["j1", {"job_id": "j2", "type": "N_TO_N"}],
        timeout_seconds=120,
        retry_attempts=3,
        evaluate_on_exit=[{"action": "EXIT", "on_exit_code": "2"}],
        tags={"team": "data"},
        propagate_tags=True,
        vcpus=0.5,
        memory_mib=1024,
        gpus=1,
        scheduling_priority=7,
        share_identifier="blue",
    )
    assert submit_params(request, CONFIG) == {
        "jobName": "full",
        "jobQueue": "other-queue",
        "jobDefinition": "other-def",
        "containerOverrides": {
            "command": ["python", "-c", "print(1)"],
            "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "resourceRequirements": [
                {"type": "VCPU", "value": "0.5"},
                {"type": "MEMORY", "value": "1024"},
                {"type": "GPU", "value": "1"},
            ],
        },
        "parameters": {"p": "v"},
        "arrayProperties": {"size": 4},
        "dependsOn": [{"jobId": "j1"}, {"jobId": "j2", "type": "N_TO_N"}],
        "timeout": {"attemptDurationSeconds": 120},
        "retryStrategy": {"attempts": 3, "evaluateOnExit": [{"onExitCode": "2", "action": "EXIT"}]},
        "tags": {"team": "data"},
        "propagateTags": True,
        "schedulingPriorityOverride": 7,
        "shareIdentifier": "blue",
    }


def test_config_retry_attempts_is_the_default_job_retry_strategy() -> None:
    config = CONFIG.model_copy(update={"retry_attempts": 4})
    assert submit_params(JobRequest(), config)["retryStrategy"] == {"attempts": 4}
    assert submit_params(JobRequest(retry_attempts=1), config)["retryStrategy"] == {"attempts": 1}
    assert "retryStrategy" not in submit_params(JobRequest(), CONFIG)


def test_generated_names_are_valid_and_unique() -> None:
    names = {submit_params(JobRequest(), CONFIG)["jobName"] for _ in range(1000)}
    assert len(names) == 1000
    assert all(AWS_NAME.match(n) and n.startswith("job-") for n in names)
    based = BatchConfig(job_queue="q", job_definition="d", job_base_name="b" * 115)
    name = submit_params(JobRequest(), based)["jobName"]
    assert AWS_NAME.match(name)
    assert name.startswith("b" * 115 + "-")


def test_missing_queue_or_definition_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="job queue"):
        submit_params(JobRequest(), BatchConfig(job_definition="d"))
    with pytest.raises(ConfigurationError, match="job definition"):
        submit_params(JobRequest(), BatchConfig(job_queue="q"))


def test_reprs_hide_secret_values() -> None:
    request = JobRequest(env_vars={"TOKEN": "s3cr3t-env"}, parameters={"pw": "s3cr3t-param"})
    for text in (repr(request), str(request)):
        assert "s3cr3t" not in text
        assert "TOKEN" in text
        assert "pw" in text
    detail = JobDetail.model_validate(
        {"jobId": "1", "jobName": "n", "status": "RUNNING", "parameters": {"pw": "s3cr3t-param"}}
    )
    assert "s3cr3t" not in repr(detail)
    assert detail.parameters == {"pw": "s3cr3t-param"}


def test_requests_are_frozen() -> None:
    request = JobRequest(job_name="x")
    with pytest.raises(ValidationError):
        request.job_name = "y"  # type: ignore[misc]


def test_job_status_is_an_ordered_str_enum() -> None:
    assert list(JobStatus) == [
        JobStatus.SUBMITTED,
        JobStatus.PENDING,
        JobStatus.RUNNABLE,
        JobStatus.STARTING,
        JobStatus.RUNNING,
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
    ]
    assert JobStatus.SUCCEEDED == "SUCCEEDED"
    assert str(JobStatus.FAILED) == "FAILED"
    assert {s for s in JobStatus if s.is_terminal} == {JobStatus.SUCCEEDED, JobStatus.FAILED}
    assert not JobStatus.RUNNABLE.has_started
    assert JobStatus.STARTING.has_started


DESCRIBED = {
    "jobArn": "arn:aws:batch:us-east-1:123:job/abc",
    "jobName": "train",
    "jobId": "abc",
    "jobQueue": "arn:aws:batch:us-east-1:123:job-queue/q",
    "status": "FAILED",
    "statusReason": "Essential container in task exited",
    "createdAt": 1_700_000_000_000,
    "startedAt": 1_700_000_001_500,
    "stoppedAt": 1_700_000_009_000,
    "dependsOn": [{"jobId": "dep1"}],
    "jobDefinition": "arn:aws:batch:us-east-1:123:job-definition/d:1",
    "parameters": {"p": "v"},
    "container": {"image": "busybox", "exitCode": 3, "logStreamName": "d/default/xyz"},
    "attempts": [
        {
            "container": {"exitCode": 1, "logStreamName": "d/default/first"},
            "startedAt": 1_700_000_000_500,
            "stoppedAt": 1_700_000_000_900,
            "statusReason": "first try",
        },
        {"container": {"exitCode": 3, "logStreamName": "d/default/xyz"}},
    ],
    "tags": {"team": "ml", "aws-batch-async:token": "t-123"},
    "arrayProperties": {"statusSummary": {"SUCCEEDED": 2, "FAILED": 1}, "size": 3},
    "someFieldFromTheFuture": {"nested": True},
    "isCancelled": False,
}


def test_job_detail_parses_describe_jobs() -> None:
    job = JobDetail.model_validate(DESCRIBED)
    assert job.job_id == "abc"
    assert job.status is JobStatus.FAILED
    assert job.is_terminal
    assert job.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert job.started_at is not None
    assert job.started_at.microsecond == 500_000
    assert job.exit_code == 3
    assert job.log_stream_name == "d/default/xyz"
    assert [a.exit_code for a in job.attempts] == [1, 3]
    assert job.attempts[0].log_stream_name == "d/default/first"
    assert job.attempts[0].status_reason == "first try"
    assert job.tags == {"team": "ml"}  # the library's own token tag stays hidden
    assert job.depends_on[0].job_id == "dep1"
    assert job.array_properties is not None
    assert job.array_properties.status_summary == {"SUCCEEDED": 2, "FAILED": 1}
    assert job.is_array_parent
    assert job.is_cancelled is False


def test_exit_code_falls_back_to_the_last_attempt() -> None:
    raw = {**DESCRIBED, "container": {"image": "busybox"}}
    assert JobDetail.model_validate(raw).exit_code == 3


def test_minimal_and_summary_models() -> None:
    job = JobDetail.model_validate({"jobId": "1", "jobName": "n", "status": "SUBMITTED"})
    assert job.exit_code is None
    assert job.depends_on == []
    assert not job.is_terminal
    assert not job.is_array_parent
    summary = JobSummary.model_validate(
        {
            "jobId": "1",
            "jobName": "n",
            "status": "SUCCEEDED",
            "createdAt": 0,
            "container": {"exitCode": 0},
            "arrayProperties": {"index": 2},
            "newThing": 1,
        }
    )
    assert summary.exit_code == 0
    assert summary.is_terminal
    assert summary.array_properties is not None
    assert summary.array_properties.index == 2
    response = JobResponse.model_validate(
        {"jobId": "1", "jobName": "n", "jobArn": "arn", "ResponseMetadata": {}}
    )
    assert (response.job_id, response.job_name, response.job_arn) == ("1", "n", "arn")
    # snake_case works too (populate_by_name)
    assert JobResponse(job_id="1", job_name="n").job_arn is None


def test_an_unknown_status_is_kept_and_a_non_string_one_rejected() -> None:
    job = JobDetail.model_validate({"jobId": "1", "jobName": "n", "status": "EXPLODED"})
    assert job.status == "EXPLODED"
    assert not job.status.is_known
    assert not job.is_terminal
    with pytest.raises(ValidationError):
        JobDetail.model_validate({"jobId": "1", "jobName": "n", "status": 7})


BAD_CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("job_base_name", {"job_base_name": "b" * 116}),
    ("job_base_name", {"job_base_name": "_x"}),
    ("retry_attempts", {"retry_attempts": 11}),
    ("max_pool_connections", {"max_pool_connections": 0}),
    ("api_max_attempts", {"api_max_attempts": 0}),
    ("retry_mode", {"retry_mode": "legacy-ish"}),
    ("connect_timeout", {"connect_timeout": 0}),
    ("read_timeout", {"read_timeout": -1}),
    ("endpoint_url", {"endpoint_url": "localhost:4566"}),
    ("submit_rate_limit", {"submit_rate_limit": 0}),
    ("region", {"region": ""}),
    ("access_key_id", {"access_key_id": "AKIA"}),
    ("session_token", {"session_token": "tok"}),
    ("profile", {"profile": "p", "access_key_id": "a", "secret_access_key": "s"}),
    ("surprise", {"surprise": True}),
]


@pytest.mark.parametrize(("field", "kwargs"), BAD_CONFIGS, ids=[f for f, _ in BAD_CONFIGS])
def test_bad_config_raises_at_construction(field: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        BatchConfig(**kwargs)
    assert field in str(info.value) or "together" in str(info.value)


def test_bad_poll_policy() -> None:
    with pytest.raises(ValidationError, match="max_interval"):
        PollPolicy(initial_interval=10, max_interval=1)
    with pytest.raises(ValidationError, match="initial_interval"):
        PollPolicy(initial_interval=0)


def test_config_repr_hides_credentials() -> None:
    config = BatchConfig(access_key_id="AKIAEXAMPLE", secret_access_key="wJalr-secret")
    for text in (repr(config), str(config)):
        assert "wJalr-secret" not in text
        assert "AKIAEXAMPLE" not in text


def test_config_from_env() -> None:
    config = BatchConfig.from_env(
        {
            "AWS_BATCH_JOB_QUEUE": "q",
            "AWS_BATCH_JOB_DEFINITION": "d:2",
            "AWS_BATCH_RETRY_ATTEMPTS": "2",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_BATCH_ENDPOINT_URL": "http://127.0.0.1:5000",
        },
        max_pool_connections=8,
    )
    assert config.job_queue == "q"
    assert config.job_definition == "d:2"
    assert config.retry_attempts == 2
    assert config.region == "eu-west-1"
    assert config.endpoint_url == "http://127.0.0.1:5000"
    assert config.max_pool_connections == 8
    with pytest.raises(ValidationError, match="retry_attempts"):
        BatchConfig.from_env({"AWS_BATCH_RETRY_ATTEMPTS": "99"})


def test_a_sequential_dependency_without_a_job_id_parses_in_details_and_requests() -> None:
    """AWS allows ``{"type": "SEQUENTIAL"}`` alone; it used to make JobDetail raise."""
    job = JobDetail.model_validate(
        {"jobId": "c", "jobName": "n", "status": "PENDING", "dependsOn": [{"type": "SEQUENTIAL"}]}
    )
    assert job.depends_on[0].job_id is None
    assert job.depends_on[0].type == "SEQUENTIAL"
    request = JobRequest(depends_on=[{"type": "SEQUENTIAL"}], array_size=3)
    assert submit_params(request, CONFIG)["dependsOn"] == [{"type": "SEQUENTIAL"}]
    with pytest.raises(ValidationError, match="job_id"):
        JobRequest(depends_on=[{"type": "N_TO_N"}], array_size=3)
