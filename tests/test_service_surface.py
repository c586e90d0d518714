"""BatchService's public surface: every public method keeps its signature, and the service
composes its parts instead of inheriting them.

``EXPECTED`` was generated from main before BatchService stopped inheriting mixins (issue 19):
for each public method or property, its kind (coroutine, async generator, plain function,
property), ``inspect.signature`` as text, and the signatures of its ``@overload``s.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

import pytest

from aws_batch_async import BatchService

EXPECTED: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "__aenter__": (
        "coroutine",
        "(self) -> 'BatchService'",
        (),
    ),
    "__aexit__": (
        "coroutine",
        (
            "(self, exc_type: 'type[BaseException] | None',"
            " exc: 'BaseException | None', tb: 'TracebackType | None') -> 'None'"
        ),
        (),
    ),
    "__enter__": (
        "function",
        "(self) -> 'NoReturn'",
        (),
    ),
    "__exit__": (
        "function",
        "(self, *exc_info: 'object') -> 'None'",
        (),
    ),
    "__init__": (
        "function",
        (
            "(self, config: 'BatchConfig | None' = None, *,"
            " session: 'Any | None' = None, logger: 'logging.Logger | None' = None,"
            " tracer_provider: 'Any | None' = None,"
            " meter_provider: 'Any | None' = None) -> 'None'"
        ),
        (),
    ),
    "aclose": (
        "coroutine",
        "(self) -> 'None'",
        (),
    ),
    "as_completed": (
        "async generator",
        (
            "(self, job_ids: 'Iterable[str]', *, timeout: 'float | None' = None,"
            " stuck_after: 'float | None' = None) -> 'AsyncGenerator[JobDetail,"
            " None]'"
        ),
        (),
    ),
    "call": (
        "coroutine",
        "(self, operation: 'str', /, **params: 'Any') -> 'dict[str, Any]'",
        (),
    ),
    "cancel_job": (
        "coroutine",
        "(self, job_id: 'str', reason: 'str') -> 'None'",
        (),
    ),
    "cancel_jobs": (
        "coroutine",
        "(self, job_ids: 'Iterable[str]', reason: 'str') -> 'BulkStopResult'",
        (),
    ),
    "deregister_job_definition": (
        "coroutine",
        "(self, job_definition: 'str') -> 'None'",
        (),
    ),
    "describe_compute_environments": (
        "function",
        ("(self, names: 'Iterable[str] | None' = None) -> 'AsyncIterator[ComputeEnvironment]'"),
        (),
    ),
    "describe_job_definitions": (
        "function",
        (
            "(self, name: 'str | None' = None, *, status: \"Literal['ACTIVE',"
            " 'INACTIVE'] | None\" = 'ACTIVE') -> 'AsyncIterator[JobDefinition]'"
        ),
        (),
    ),
    "describe_job_queues": (
        "function",
        ("(self, names: 'Iterable[str] | None' = None) -> 'AsyncIterator[JobQueue]'"),
        (),
    ),
    "describe_jobs": (
        "coroutine",
        "(self, job_ids: 'Iterable[str]') -> 'list[JobDetail]'",
        (),
    ),
    "describe_service_job": (
        "coroutine",
        "(self, job_id: 'str') -> 'ServiceJobDetail'",
        (),
    ),
    "ensure_event_queue": (
        "coroutine",
        (
            "(self, queue_name: 'str', *, job_queue: 'str | None' = None,"
            " job_name_prefix: 'str | None' = None) -> 'str'"
        ),
        (),
    ),
    "ensure_job_definition": (
        "coroutine",
        (
            "(self, definition: 'Mapping[str,"
            " Any] | JobDefinitionSpec | None' = None, /,"
            " **fields: 'Any') -> 'JobDefinition'"
        ),
        (),
    ),
    "explain": (
        "coroutine",
        "(self, job_id: 'str') -> 'JobDiagnosis'",
        (),
    ),
    "failed_indices": (
        "coroutine",
        "(self, array_job_id: 'str') -> 'list[int]'",
        (),
    ),
    "get_job_queue_snapshot": (
        "coroutine",
        "(self, queue: 'str | None' = None) -> 'JobQueueSnapshot'",
        (),
    ),
    "get_job_status": (
        "coroutine",
        "(self, job_id: 'str') -> 'JobDetail'",
        (),
    ),
    "get_logs": (
        "function",
        (
            "(self, job_id: 'str', *, attempt: 'int | None' = None,"
            " follow: 'bool' = False, container: 'str | None' = None,"
            " node: 'int | None' = None) -> 'AsyncGenerator[LogEvent, None]'"
        ),
        (),
    ),
    "is_closed": (
        "property",
        "(self) -> 'bool'",
        (),
    ),
    "latest_job_definition": (
        "coroutine",
        "(self, name: 'str') -> 'JobDefinition | None'",
        (),
    ),
    "list_jobs": (
        "function",
        (
            "(self, job_queue: 'str | None' = None,"
            " job_status: 'JobStatus | str | None' = None, *,"
            " job_name: 'str | None' = None, job_definition: 'str | None' = None,"
            " created_after: 'datetime | None' = None,"
            " created_before: 'datetime | None' = None,"
            " share_identifier: 'str | None' = None,"
            " array_job_id: 'str | None' = None,"
            " multi_node_job_id: 'str | None' = None,"
            " page_size: 'int | None' = None) -> 'AsyncGenerator[JobSummary, None]'"
        ),
        (),
    ),
    "list_service_jobs": (
        "function",
        (
            "(self, job_queue: 'str | None' = None, job_status: 'str | None' = None,"
            " *, job_name: 'str | None' = None,"
            " page_size: 'int | None' = None) -> 'AsyncGenerator[ServiceJobSummary,"
            " None]'"
        ),
        (),
    ),
    "open": (
        "coroutine",
        "(self) -> 'None'",
        (),
    ),
    "paginate": (
        "function",
        ("(self, operation: 'str', /, **params: 'Any') -> 'AsyncGenerator[dict[str, Any], None]'"),
        (),
    ),
    "prune_job_definitions": (
        "coroutine",
        "(self, name: 'str', *, keep: 'int' = 5) -> 'list[str]'",
        (),
    ),
    "register_job_definition": (
        "coroutine",
        (
            "(self, definition: 'Mapping[str,"
            " Any] | JobDefinitionSpec | None' = None, /,"
            " **fields: 'Any') -> 'RegisteredJobDefinition'"
        ),
        (),
    ),
    "request_of": (
        "coroutine",
        "(self, job_id: 'str') -> 'JobRequest'",
        (),
    ),
    "rerun_failed": (
        "coroutine",
        (
            "(self, array_job_id: 'str', *, change: 'Callable[[JobRequest],"
            " JobRequest] | None' = None) -> 'RerunResponse'"
        ),
        (),
    ),
    "resubmit": (
        "coroutine",
        "(self, job_id: 'str', change: 'Change | None' = None) -> 'JobResponse'",
        (),
    ),
    "run_job": (
        "coroutine",
        (
            "(self, request: 'JobRequest', *, timeout: 'float | None' = None,"
            " on_cancel: 'OnCancel' = 'terminate',"
            " on_submitted: 'Callable[[JobResponse], object] | None' = None,"
            " logs: 'Callable[[LogEvent], object] | None' = None,"
            " stuck_after: 'float | None' = None,"
            " resubmit: 'ResubmitPolicy | None' = None) -> 'JobDetail'"
        ),
        (),
    ),
    "stop_job": (
        "coroutine",
        "(self, job_id: 'str', reason: 'str') -> 'JobDetail'",
        (),
    ),
    "stop_jobs": (
        "coroutine",
        "(self, job_ids: 'Iterable[str]', reason: 'str') -> 'BulkStopResult'",
        (),
    ),
    "submit_job": (
        "coroutine",
        ("(self, request: 'JobRequest', *, retry: 'SubmitRetry | None' = None) -> 'JobResponse'"),
        (),
    ),
    "submit_jobs": (
        "coroutine",
        (
            "(self, requests: 'Iterable[JobRequest]', *,"
            " concurrency: 'int | None' = None, return_exceptions: 'bool' = False,"
            " retry: 'SubmitRetry | None' = None,"
            " on_submitted: 'OnSubmitted | None' = None,"
            " max_unfinished: 'int | None' = None)"
            " -> 'list[JobResponse] | list[JobResponse | BaseException]'"
        ),
        (
            (
                "(self, requests: 'Iterable[JobRequest]', *,"
                " concurrency: 'int | None' = None,"
                " return_exceptions: 'Literal[False]' = False,"
                " retry: 'SubmitRetry | None' = None,"
                " on_submitted: 'OnSubmitted | None' = None,"
                " max_unfinished: 'int | None' = None) -> 'list[JobResponse]'"
            ),
            (
                "(self, requests: 'Iterable[JobRequest]', *,"
                " concurrency: 'int | None' = None, return_exceptions: 'bool',"
                " retry: 'SubmitRetry | None' = None,"
                " on_submitted: 'OnSubmitted | None' = None,"
                " max_unfinished: 'int | None' = None) -> 'list[JobResponse | BaseException]'"
            ),
        ),
    ),
    "submit_service_job": (
        "coroutine",
        (
            "(self, request: 'ServiceJobRequest', *,"
            " retry: 'SubmitRetry | None' = None) -> 'JobResponse'"
        ),
        (),
    ),
    "terminate_job": (
        "coroutine",
        "(self, job_id: 'str', reason: 'str') -> 'None'",
        (),
    ),
    "terminate_jobs": (
        "coroutine",
        "(self, job_ids: 'Iterable[str]', reason: 'str') -> 'BulkStopResult'",
        (),
    ),
    "terminate_service_job": (
        "coroutine",
        "(self, job_id: 'str', reason: 'str') -> 'None'",
        (),
    ),
    "terminate_service_jobs": (
        "coroutine",
        "(self, job_ids: 'Iterable[str]', reason: 'str') -> 'BulkStopResult'",
        (),
    ),
    "update_service_job": (
        "coroutine",
        "(self, job_id: 'str', *, scheduling_priority: 'int') -> 'JobResponse'",
        (),
    ),
    "wait_for": (
        "coroutine",
        (
            "(self, job_id: 'str', *, timeout: 'float | None' = None,"
            " raise_on_failure: 'bool' = True,"
            " stuck_after: 'float | None' = None) -> 'JobDetail'"
        ),
        (),
    ),
    "wait_for_service_job": (
        "coroutine",
        (
            "(self, job_id: 'str', *, timeout: 'float | None' = None,"
            " raise_on_failure: 'bool' = True) -> 'ServiceJobDetail'"
        ),
        (),
    ),
    "watch": (
        "async generator",
        (
            "(self, job_id: 'str', *, timeout: 'float | None' = None,"
            " stuck_after: 'float | None' = None) -> 'AsyncGenerator[JobDetail,"
            " None]'"
        ),
        (),
    ),
}


def _public_names() -> list[str]:
    dunders = {"__init__", "__aenter__", "__aexit__", "__enter__", "__exit__"}
    return sorted(n for n in dir(BatchService) if not n.startswith("_") or n in dunders)


def _kind(member: object) -> str:
    if isinstance(member, property):
        return "property"
    if inspect.isasyncgenfunction(member):
        return "async generator"
    return "coroutine" if inspect.iscoroutinefunction(member) else "function"


def _overloads(function: Callable[..., Any]) -> tuple[str, ...] | None:
    """Its ``@overload``s' signatures; ``None`` before Python 3.11 (``typing`` cannot list them)."""
    get_overloads = getattr(typing, "get_overloads", None)
    if get_overloads is None:
        return None
    return tuple(str(inspect.signature(o)) for o in get_overloads(function))


def test_the_public_names_are_those_of_main() -> None:
    assert _public_names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_public_method_keeps_its_signature_kind_and_overloads(name: str) -> None:
    member = inspect.getattr_static(BatchService, name)
    function = member.fget if isinstance(member, property) else member
    assert callable(function)
    kind, signature, overloads = EXPECTED[name]
    assert (_kind(member), str(inspect.signature(function))) == (kind, signature)
    listed = _overloads(function)
    if listed is not None:
        assert listed == overloads
    if not name.startswith("__"):
        assert function.__doc__, f"{name} lost its docstring (docs/api.md renders it)"


def test_the_service_inherits_nothing() -> None:
    """It composes its parts (``docs/architecture.md``): no mixin among its bases."""
    assert BatchService.__bases__ == (object,)
    assert BatchService.__mro__ == (BatchService, object)


def test_opening_and_closing_a_service_creates_no_part() -> None:
    """Each part (and its module) is created by the first call that needs it, not by opening."""
    import os
    import subprocess
    import sys

    code = (
        "import asyncio, sys\n"
        "from aws_batch_async import BatchConfig, BatchService\n"
        "async def main() -> None:\n"
        "    async with BatchService(BatchConfig(region='us-east-1')):\n"
        "        pass\n"
        "asyncio.run(main())\n"
        "parts = ('facade', 'event_setup', 'poller', 'submitter', 'operations')\n"
        "print(' '.join(m for m in sys.modules if m.rpartition('.')[2] in parts))\n"
    )
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.split() == []
