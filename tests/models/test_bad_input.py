"""Bad input anywhere in the public API: a clear error naming the field, and no network call.

One table covers the methods of ``BatchService`` and the models users build. Every row runs
against an open service whose endpoint is a recording proxy, and the proxy must see nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from aws_batch_async import (
    BatchConfig,
    BatchService,
    EvaluateOnExit,
    JobKind,
    JobRequest,
    PollPolicy,
    SubmitRetry,
)
from aws_batch_async.testing import BatchProxy, MotoServer

from ..conftest import REGION

#: Takes the open service, typed Any so that the table may pass deliberately wrong types.
Action = Callable[[Any], Any]


def _tags(n: int) -> dict[str, str]:
    return {f"key-{i}": "v" for i in range(n)}


#: (case id, action, expected error type, regex naming the field)
CASES: list[tuple[str, Action, type[Exception], str]] = [
    # --- JobRequest and its parts
    ("job_name-first-char", lambda b: JobRequest(job_name="-x"), ValidationError, "job_name"),
    ("job_name-too-long", lambda b: JobRequest(job_name="x" * 129), ValidationError, "job_name"),
    ("job_name-space", lambda b: JobRequest(job_name="a b"), ValidationError, "job_name"),
    ("command-empty", lambda b: JobRequest(command=[]), ValidationError, "command"),
    (
        "env-reserved-name",
        lambda b: JobRequest(env_vars={"AWS_BATCH_X": "v"}),
        ValidationError,
        "env_vars",
    ),
    ("env-empty-name", lambda b: JobRequest(env_vars={"": "v"}), ValidationError, "env_vars"),
    ("env-equals-sign", lambda b: JobRequest(env_vars={"A=B": "v"}), ValidationError, "env_vars"),
    (
        "parameters-empty-name",
        lambda b: JobRequest(parameters={"": "v"}),
        ValidationError,
        "parameters",
    ),
    ("array_size-1", lambda b: JobRequest(array_size=1), ValidationError, "array_size"),
    ("array_size-10001", lambda b: JobRequest(array_size=10_001), ValidationError, "array_size"),
    (
        "depends_on-21",
        lambda b: JobRequest(depends_on=[f"j{i}" for i in range(21)]),
        ValidationError,
        "depends_on",
    ),
    (
        "depends_on-type-without-array",
        lambda b: JobRequest(depends_on=[{"job_id": "a", "type": "N_TO_N"}]),
        ValidationError,
        "depends_on",
    ),
    (
        "depends_on-unknown-type",
        lambda b: JobRequest(array_size=2, depends_on=[{"job_id": "a", "type": "ALL"}]),
        ValidationError,
        "depends_on",
    ),
    ("timeout-59s", lambda b: JobRequest(timeout_seconds=59), ValidationError, "timeout_seconds"),
    ("retry_attempts-0", lambda b: JobRequest(retry_attempts=0), ValidationError, "retry_attempts"),
    (
        "retry_attempts-11",
        lambda b: JobRequest(retry_attempts=11),
        ValidationError,
        "retry_attempts",
    ),
    (
        "evaluate_on_exit-6",
        lambda b: JobRequest(evaluate_on_exit=[EvaluateOnExit(action="EXIT")] * 6),
        ValidationError,
        "evaluate_on_exit",
    ),
    ("on_exit-action", lambda b: EvaluateOnExit(action="RESTART"), ValidationError, "action"),
    (
        "on_exit-code-glob",
        lambda b: EvaluateOnExit(action="EXIT", on_exit_code="1a"),
        ValidationError,
        "on_exit_code",
    ),
    ("tags-51", lambda b: JobRequest(tags=_tags(51)), ValidationError, "tags"),
    ("tags-aws-prefix", lambda b: JobRequest(tags={"aws:x": "v"}), ValidationError, "tags"),
    (
        "tags-forged-token",
        lambda b: JobRequest(tags={"aws-batch-async:submit-token": "forged"}),
        ValidationError,
        "tags",
    ),
    ("tags-long-value", lambda b: JobRequest(tags={"k": "v" * 257}), ValidationError, "tags"),
    ("vcpus-0", lambda b: JobRequest(vcpus=0), ValidationError, "vcpus"),
    ("memory-3", lambda b: JobRequest(memory_mib=3), ValidationError, "memory_mib"),
    ("gpus-negative", lambda b: JobRequest(gpus=-1), ValidationError, "gpus"),
    (
        "priority-10000",
        lambda b: JobRequest(scheduling_priority=10_000),
        ValidationError,
        "scheduling_priority",
    ),
    (
        "share-256",
        lambda b: JobRequest(share_identifier="s" * 256),
        ValidationError,
        "share_identifier",
    ),
    (
        "unknown-field",
        lambda b: JobRequest(**{"unknown_field": 1}),
        ValidationError,
        "unknown_field",
    ),
    # AWS's Integer (int32) and Long, tag characters, share identifiers
    (
        "timeout-2**64",
        lambda b: JobRequest(timeout_seconds=2**64),
        ValidationError,
        "timeout_seconds",
    ),
    ("memory-2**31", lambda b: JobRequest(memory_mib=2**31), ValidationError, "memory_mib"),
    (
        "quantity-2**64",
        lambda b: JobRequest(consumable_resources={"r": 2**64}),
        ValidationError,
        "consumable_resources",
    ),
    ("tags-key-nul", lambda b: JobRequest(tags={"k\x00": "v"}), ValidationError, "tags"),
    ("tags-key-tab", lambda b: JobRequest(tags={"k\t": "v"}), ValidationError, "tags"),
    ("tags-key-newline", lambda b: JobRequest(tags={"k\n": "v"}), ValidationError, "tags"),
    ("tags-value-newline", lambda b: JobRequest(tags={"k": "a\nb"}), ValidationError, "tags"),
    (
        "share-dash",
        lambda b: JobRequest(share_identifier="blue-team"),
        ValidationError,
        "share_identifier",
    ),
    # --- BatchConfig, PollPolicy, SubmitRetry
    (
        "config-base-name",
        lambda b: BatchConfig(job_base_name="bad name"),
        ValidationError,
        "job_base_name",
    ),
    (
        "config-rate-0",
        lambda b: BatchConfig(submit_rate_limit=0),
        ValidationError,
        "submit_rate_limit",
    ),
    (
        "config-endpoint",
        lambda b: BatchConfig(endpoint_url="ftp://example.com"),
        ValidationError,
        "endpoint_url",
    ),
    (
        "config-pool-0",
        lambda b: BatchConfig(max_pool_connections=0),
        ValidationError,
        "max_pool_connections",
    ),
    (
        "config-endpoint-no-host",
        lambda b: BatchConfig(endpoint_url="http://"),
        ValidationError,
        "endpoint_url",
    ),
    (
        "config-endpoint-port",
        lambda b: BatchConfig(endpoint_url="http://localhost:99999"),
        ValidationError,
        "endpoint_url",
    ),
    (
        "config-logs-endpoint",
        lambda b: BatchConfig(logs_endpoint_url="https://"),
        ValidationError,
        "logs_endpoint_url",
    ),
    (
        "config-credentials-crlf",
        lambda b: BatchConfig(access_key_id="AKID\r\n", secret_access_key="s"),
        ValidationError,
        "access_key_id",
    ),
    (
        "config-key-without-secret",
        lambda b: BatchConfig(access_key_id="AKIDEXAMPLE"),
        ValidationError,
        "secret_access_key",
    ),
    (
        "poll-interval-0",
        lambda b: PollPolicy(initial_interval=0),
        ValidationError,
        "initial_interval",
    ),
    (
        "poll-max-below-initial",
        lambda b: PollPolicy(initial_interval=10, max_interval=1),
        ValidationError,
        "max_interval",
    ),
    ("retry-attempts-0", lambda b: SubmitRetry(max_attempts=0), ValidationError, "max_attempts"),
    ("retry-timeout-0", lambda b: SubmitRetry(timeout=0), ValidationError, "timeout"),
    (
        "retry-no-lookups",
        lambda b: SubmitRetry(lookup_delays=()),
        ValidationError,
        "lookup_delays",
    ),
    (
        "retry-negative-lookup",
        lambda b: SubmitRetry(lookup_delays=(-1.0,)),
        ValidationError,
        "lookup_delays",
    ),
    # --- submit_job / submit_jobs
    ("submit-dict", lambda b: b.submit_job({"job_name": "x"}), TypeError, "request"),
    (
        "submit-50-tags-with-token",
        lambda b: b.submit_job(JobRequest(tags=_tags(50))),
        ValueError,
        r"tags.*at most 49",
    ),
    # AWS's size limits: 30 KiB per SubmitJob (its text alone is known before the kind is),
    # 8,192 characters of ECS overrides (once the kind is known: given here, else looked up)
    (
        "submit-40KB-command",
        lambda b: b.submit_job(JobRequest(command=["echo", "x" * 40_000])),
        ValueError,
        r"payload: .*at least 40,0\d\d bytes.*30,720",
    ),
    (
        "submit-31KB-parameters",
        lambda b: b.submit_job(JobRequest(parameters={"blob": "x" * 31_000})),
        ValueError,
        r"payload: .*at least 31,0\d\d bytes.*30,720",
    ),
    (
        "submit-9000-character-env",
        lambda b: b.submit_job(JobRequest(kind=JobKind.CONTAINER, env_vars={"B": "x" * 9000})),
        ValueError,
        r"containerOverrides: 9,0\d\d characters.*8,192",
    ),
    (
        "submit-9000-characters-per-node",
        lambda b: b.submit_job(
            JobRequest(kind=JobKind.MULTINODE, num_nodes=2, command=["x" * 9000])
        ),
        ValueError,
        r"nodePropertyOverrides\[0\]\.containerOverrides: 9,0\d\d characters",
    ),
    (
        "submit-30KiB-with-token",
        lambda b: b.submit_job(JobRequest(kind=JobKind.EKS, parameters={"p": "x" * 30_600})),
        ValueError,
        r"payload: .*30,7\d\d bytes.*idempotency token.*30,720",
    ),
    (
        "submit_jobs-size-of-one",
        lambda b: b.submit_jobs(
            [
                JobRequest(kind=JobKind.CONTAINER),
                JobRequest(kind=JobKind.CONTAINER, command=["x" * 9000]),
            ]
        ),
        ValueError,
        r"requests\[1\]\.containerOverrides",
    ),
    (
        "submit-retry-dict",
        lambda b: b.submit_job(JobRequest(), retry={"max_attempts": 1}),
        TypeError,
        "retry",
    ),
    ("submit_jobs-string", lambda b: b.submit_jobs("abc"), TypeError, "requests"),
    ("submit_jobs-one-request", lambda b: b.submit_jobs(JobRequest()), TypeError, "requests"),
    ("submit_jobs-not-iterable", lambda b: b.submit_jobs(42), TypeError, "requests"),
    (
        "submit_jobs-bad-item",
        lambda b: b.submit_jobs([JobRequest(), "x"]),
        TypeError,
        r"requests\[1\]",
    ),
    (
        "submit_jobs-tags-of-one",
        lambda b: b.submit_jobs([JobRequest(), JobRequest(tags=_tags(50))]),
        ValueError,
        r"requests\[1\]\.tags",
    ),
    (
        "submit_jobs-concurrency-0",
        lambda b: b.submit_jobs([JobRequest()], concurrency=0),
        ValueError,
        "concurrency",
    ),
    (
        "submit_jobs-concurrency-float",
        lambda b: b.submit_jobs([JobRequest()], concurrency=1.5),
        TypeError,
        "concurrency",
    ),
    (
        "submit_jobs-concurrency-bool",
        lambda b: b.submit_jobs([JobRequest()], concurrency=True),
        TypeError,
        "concurrency",
    ),
    (
        "submit_jobs-callback",
        lambda b: b.submit_jobs([JobRequest()], on_submitted="print"),
        TypeError,
        "on_submitted",
    ),
    # --- reading
    ("status-empty-id", lambda b: b.get_job_status(""), ValueError, "job_id"),
    ("status-none-id", lambda b: b.get_job_status(None), TypeError, "job_id"),
    ("describe-string", lambda b: b.describe_jobs("abc"), TypeError, "job ids"),
    ("describe-empty-id", lambda b: b.describe_jobs(["ok", " "]), ValueError, "job_id"),
    ("describe-int-id", lambda b: b.describe_jobs([1]), TypeError, "job_id"),
    ("list-status", lambda b: b.list_jobs(job_status="DONE"), ValueError, "job_status"),
    ("list-page-0", lambda b: b.list_jobs(page_size=0), ValueError, "page_size"),
    (
        "list-page-1001",
        lambda b: b.list_jobs(job_status="RUNNING", page_size=1001),
        ValueError,
        "page_size",
    ),
    ("list-name-empty", lambda b: b.list_jobs(job_name=""), ValueError, "job_name"),
    ("list-name-long", lambda b: b.list_jobs(job_name="n" * 129), ValueError, "job_name"),
    (
        "list-queue-and-array",
        lambda b: b.list_jobs(job_queue="q", array_job_id="a"),
        ValueError,
        "array_job_id",
    ),
    ("list-array-empty", lambda b: b.list_jobs(array_job_id=""), ValueError, "array_job_id"),
    # --- waiting and logs
    ("wait-empty-id", lambda b: b.wait_for(""), ValueError, "job_id"),
    ("wait-negative-timeout", lambda b: b.wait_for("id", timeout=-1), ValueError, "timeout"),
    ("wait-text-timeout", lambda b: b.wait_for("id", timeout="10"), TypeError, "timeout"),
    ("watch-empty-id", lambda b: b.watch(""), ValueError, "job_id"),
    ("watch-negative-timeout", lambda b: b.watch("id", timeout=-5), ValueError, "timeout"),
    ("as_completed-string", lambda b: b.as_completed("abc"), TypeError, "job ids"),
    ("as_completed-empty-id", lambda b: b.as_completed(["a", ""]), ValueError, "job_id"),
    (
        "as_completed-negative-timeout",
        lambda b: b.as_completed(["a"], timeout=-1),
        ValueError,
        "timeout",
    ),
    ("logs-empty-id", lambda b: b.get_logs(""), ValueError, "job_id"),
    ("logs-negative-attempt", lambda b: b.get_logs("id", attempt=-1), ValueError, "attempt"),
    ("logs-text-attempt", lambda b: b.get_logs("id", attempt="1"), TypeError, "attempt"),
    ("wait-huge-timeout", lambda b: b.wait_for("id", timeout=10**400), ValueError, "timeout"),
    # --- job definitions: AWS Batch's 24 KiB
    (
        "register-25KB-command",
        lambda b: b.register_job_definition(name="d", image="i", command=["x" * 25_000]),
        ValueError,
        r"RegisterJobDefinition request is 25,\d\d\d bytes.*24,576",
    ),
    (
        "register-raw-25KB",
        lambda b: b.register_job_definition(
            {
                "jobDefinitionName": "d",
                "type": "container",
                "containerProperties": {"image": "i", "environment": [{"name": "X" * 25_000}]},
            }
        ),
        ValueError,
        "24 KiB",
    ),
    # --- stopping
    ("cancel-empty-id", lambda b: b.cancel_job("", "why"), ValueError, "job_id"),
    ("cancel-empty-reason", lambda b: b.cancel_job("id", ""), ValueError, "reason"),
    ("cancel-none-reason", lambda b: b.cancel_job("id", None), TypeError, "reason"),
    ("terminate-long-reason", lambda b: b.terminate_job("id", "x" * 1025), ValueError, "reason"),
    ("stop-int-id", lambda b: b.stop_job(123, "why"), TypeError, "job_id"),
    # a job's whole life (_service_lifecycle.py)
    ("run-job-not-a-request", lambda b: b.run_job({"command": ["x"]}), TypeError, "JobRequest"),
    (
        "run-job-negative-timeout",
        lambda b: b.run_job(JobRequest(), timeout=-1),
        ValueError,
        "timeout",
    ),
    (
        "run-job-on-cancel",
        lambda b: b.run_job(JobRequest(), on_cancel="kill"),
        ValueError,
        "on_cancel",
    ),
    ("resubmit-empty-id", lambda b: b.resubmit(""), ValueError, "job_id"),
    ("resubmit-bad-change", lambda b: b.resubmit("id", change=3), TypeError, "change"),
    ("request-of-int-id", lambda b: b.request_of(7), TypeError, "job_id"),
]


@pytest.fixture(scope="module")
def idle_proxy(moto_server: MotoServer) -> Iterator[BatchProxy]:
    """A proxy of its own: whatever reaches it is a call that bad input must not make."""
    with BatchProxy(moto_server.url) as proxy:
        yield proxy


async def run(action: Action, batch: BatchService) -> None:
    outcome = action(batch)
    if inspect.isawaitable(outcome):
        await outcome
    elif hasattr(outcome, "__aiter__"):
        async for _ in outcome:
            pass


def test_the_table_is_large_and_covers_every_method() -> None:
    assert len(CASES) >= 30
    ids = " ".join(case_id for case_id, *_ in CASES)
    methods = ("submit", "submit_jobs", "status", "describe", "list", "wait", "watch")
    for method in (*methods, "as_completed", "logs", "cancel", "terminate", "stop"):
        assert method in ids, method


@pytest.mark.parametrize(
    ("action", "error", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_bad_input_names_the_field_and_makes_no_call(
    idle_proxy: BatchProxy, action: Action, error: type[Exception], field: str
) -> None:
    idle_proxy.reset()
    config = BatchConfig(
        region=REGION, endpoint_url=idle_proxy.url, job_queue="queue", job_definition="definition"
    )
    async with BatchService(config) as batch:
        with pytest.raises(error, match=field):
            await run(action, batch)
    assert idle_proxy.calls == []
