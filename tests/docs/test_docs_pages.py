"""The code blocks of the guides run: each ```python block of the pages below, against LocalBatch.

How a block is run depends on what it is (``docs/testing.md`` says the same to readers):

* preceded by ``<!-- not run: reason -->`` (the line before the fence): not run; the reason is
  required (real AWS, an EKS cluster, the code being replaced...);
* only ``--8<-- "file"`` lines: an included file (``docs/examples/*.py``, tested by
  ``tests/docs/test_examples.py``); the file must exist;
* preceded by ``<!-- copy of "docs/examples/x.py" -->``: a copy of that example, shown as it
  is on GitHub (which does not expand ``--8<--``); it must equal the file, and running this
  module as a script (``python tests/docs/test_docs_pages.py``) copies every example in again;
* defines ``test_...`` functions: a test module, run by pytest in a subprocess with
  ``docs/examples`` importable (all such blocks of a page in one run);
* calls ``asyncio.run(``: a whole program, run in a thread with ``BatchConfig.from_env()``'s
  variables (and botocore's ``AWS_ENDPOINT_URL_SQS`` / ``_EVENTBRIDGE``) pointing at the
  LocalBatch;
* anything else: the body of ``async def main(batch)`` (top-level ``await`` allowed), ``batch``
  an open ``BatchService`` on the LocalBatch, ``local`` the LocalBatch itself.

Besides its own queue and definition, the LocalBatch has the job definitions the pages name:
``train-mnp`` (multi-node, 4 nodes) and ``etl-on-eks`` (EKS; LocalBatch runs its pod's main
container as a local process).

The JSON blocks of ``iam.md`` must parse, and name only actions the library's calls need.
One LocalBatch in "run" mode serves the module (commands run; logs and exit codes are real).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import pytest_asyncio
from aiobotocore.session import AioSession

from aws_batch_async import BatchService, PollPolicy
from aws_batch_async.testing import LocalBatch

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
PAGES = [
    "configuration.md",
    "submitting.md",
    "limits.md",
    "errors.md",
    "testing.md",
    "iam.md",
    "migration.md",
    "fastapi.md",
    "aiohttp.md",
    "changelog.md",
    "core.md",
    "waiting.md",
    "reliability.md",
    "local-batch.md",
    "logs.md",
    "operations.md",
    "jobs.md",
    "events.md",
    "lifecycle.md",
    "aws-model.md",
    "service-jobs.md",
    "arrays-and-definitions.md",
    "observability.md",
]
FAST_POLL = PollPolicy(initial_interval=0.2, max_interval=1.0, not_found_grace=10)
NOT_RUN = re.compile(r"^<!--\s*not run:\s*(?P<reason>\S.*?)\s*-->$")
COPY = re.compile(r'^<!--\s*copy of\s+"(?P<path>[^"]+)"\s*-->$')
INCLUDE = re.compile(r'^--8<--\s+"(?P<path>[^"]+)"$')


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: str
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    not_run: str | None  # the reason, when marked
    copy_of: str | None = None  # the example file, for a copy of one

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def kind(self) -> str:
        if self.copy_of is not None:
            return "copy"
        if self.not_run is not None:
            return "not run"
        lines = [line for line in self.code.splitlines() if line.strip()]
        if lines and all(INCLUDE.match(line) for line in lines):
            return "include"
        if re.search(r"^(async )?def test_", self.code, re.MULTILINE):
            return "pytest"
        if "asyncio.run(" in self.code:
            return "program"
        return "body"


def blocks_of(page: str) -> list[Block]:
    lines = (DOCS / page).read_text().splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)", lines[i])
        if fence is None:
            i += 1
            continue
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i] != "```":
            body.append(lines[i])
            i += 1
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = NOT_RUN.match(previous.strip())
        copy = COPY.match(previous.strip())
        found.append(
            Block(
                page,
                start + 1,
                fence.group(1),
                "\n".join(body) + "\n",
                marker.group("reason") if marker else None,
                copy.group("path") if copy else None,
            )
        )
        i += 1
    return found


ALL_BLOCKS = [block for page in PAGES for block in blocks_of(page)]
PYTHON = [b for b in ALL_BLOCKS if b.lang == "python"]


def of_kind(kind: str) -> list[Block]:
    return [b for b in PYTHON if b.kind == kind]


@pytest.fixture(scope="module")
def local() -> Iterator[LocalBatch]:
    with LocalBatch(mode="run") as local:
        yield local
        # A LocalBatch stops only once its jobs and its requests are done (an SQS long poll of
        # events.md's program lasts 20 s): finish the jobs and end the long polls first.
        asyncio.run(_settle(local))


async def _settle(local: LocalBatch) -> None:
    async with BatchService(local.config.model_copy(update={"poll": FAST_POLL})) as batch:
        unfinished = [job async for job in batch.list_jobs() if not job.is_terminal]
        await batch.stop_jobs([job.job_id for job in unfinished], "the docs tests are over")
        # (moto may leave an array parent SUBMITTED for ever: its children are what runs)
        running = [job.job_id for job in unfinished if job.array_properties is None]
        with contextlib.suppress(asyncio.TimeoutError):
            async for _ in batch.as_completed(running, timeout=10):
                pass
    async with AioSession().create_client(
        "sqs",
        region_name=local.region,
        endpoint_url=local.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as sqs:
        for url in (await sqs.list_queues()).get("QueueUrls", []):
            await sqs.send_message(QueueUrl=url, MessageBody="wake up")  # ends a long poll


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_batch(local: LocalBatch) -> AsyncIterator[BatchService]:
    """One service for every block (as an app has one), on the module's event loop."""
    async with BatchService(local.config.model_copy(update={"poll": FAST_POLL})) as batch:
        for definition in EXTRA_DEFINITIONS:
            await batch.register_job_definition(definition)
        yield batch


_RESOURCES = [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}]
#: The job definitions the pages use besides LocalBatch's own.
EXTRA_DEFINITIONS: list[dict[str, Any]] = [
    {
        "jobDefinitionName": "train-mnp",
        "type": "multinode",
        "nodeProperties": {
            "numNodes": 4,
            "mainNode": 0,
            "nodeRangeProperties": [
                {
                    "targetNodes": "0:",
                    "container": {
                        "image": "any",
                        "command": ["echo", "node"],
                        "resourceRequirements": _RESOURCES,
                    },
                }
            ],
        },
    },
    {
        "jobDefinitionName": "etl-on-eks",
        "type": "container",
        "eksProperties": {
            "podProperties": {"containers": [{"image": "any", "command": ["echo", "eks"]}]}
        },
    },
]


@pytest.fixture
def examples_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))


# ---------------------------------------------------------------------------------------------
# The pages and their blocks


def test_every_page_is_in_the_nav_and_has_blocks() -> None:
    mkdocs = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r"^\s+- [^:\n]+: ([\w-]+\.md)$", mkdocs, re.MULTILINE))
    assert set(PAGES) <= listed
    for page in PAGES:
        assert blocks_of(page) or INCLUDE.match((DOCS / page).read_text().strip()), page


def test_every_block_is_of_a_known_kind() -> None:
    for block in PYTHON:
        if block.not_run is not None:
            assert len(block.not_run) > 3, f"{block.id}: say why it is not run"
    counts = {kind: len(of_kind(kind)) for kind in ("body", "program", "pytest", "include")}
    assert all(counts.values()), counts


@pytest.mark.parametrize("block", of_kind("include"), ids=lambda b: b.id)
def test_included_files_exist(block: Block) -> None:
    for line in block.code.split("\n"):
        match = INCLUDE.match(line)
        if match:
            path = ROOT / match.group("path")
            assert path.is_file(), f"{block.id}: {path} is missing"
            assert path.parent == EXAMPLES, "included code must be an example the tests run"


def with_examples_copied(text: str) -> str:
    """The page's text with each ``<!-- copy of "file" -->`` block holding that file."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        out.append(lines[i])
        copy = COPY.match(lines[i].strip())
        if copy and i + 1 < len(lines) and lines[i + 1].startswith("```"):
            out.append(lines[i + 1])
            i += 2
            while i < len(lines) and lines[i] != "```":
                i += 1
            out.extend((ROOT / copy.group("path")).read_text().rstrip("\n").split("\n"))
            continue
        i += 1
    return "\n".join(out)


@pytest.mark.parametrize("page", PAGES)
def test_copied_examples_are_the_files(page: str) -> None:
    text = (DOCS / page).read_text()
    for block in blocks_of(page):
        if block.copy_of is not None:
            path = ROOT / block.copy_of
            assert path.parent == EXAMPLES, f"{block.id}: copy only examples the tests run"
            assert block.code == path.read_text(), (
                f"{block.id} is not {block.copy_of}: run `python tests/docs/test_docs_pages.py`"
            )
    assert text == with_examples_copied(text), page


def test_pages_github_shows_have_no_include_markers() -> None:
    """GitHub shows ``--8<--`` as it is: the pages the README links show the code itself."""
    for page in ("fastapi.md", "aiohttp.md"):
        assert "--8<--" not in (DOCS / page).read_text(), page
        assert [b for b in blocks_of(page) if b.kind == "copy"], page


def test_the_changelog_page_includes_the_changelog() -> None:
    assert (DOCS / "changelog.md").read_text().strip() == '--8<-- "CHANGELOG.md"'


@pytest.mark.usefixtures("examples_importable")
@pytest.mark.parametrize("block", of_kind("body"), ids=lambda b: b.id)
@pytest.mark.asyncio(loop_scope="module")
async def test_body_blocks_run(block: Block, shared_batch: BatchService, local: LocalBatch) -> None:
    code = compile(block.code, block.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    with lines_run(block.id) as ran:
        namespace = {"__name__": "docs_block", "batch": shared_batch, "local": local}
        result = eval(code, namespace)  # the block, with top-level await
        if inspect.iscoroutine(result):
            await asyncio.wait_for(result, 120)
    # A block that shows an error must raise it: every `except` of the block ran.
    missed = handler_lines(block.code) - ran
    assert not missed, f"{block.id}: the except clauses at block lines {sorted(missed)} never ran"


def handler_lines(code: str) -> set[int]:
    """The first line of the body of every ``except`` clause of ``code``."""
    tree = ast.parse(code)
    return {node.body[0].lineno for node in ast.walk(tree) if isinstance(node, ast.ExceptHandler)}


@contextlib.contextmanager
def lines_run(filename: str) -> Iterator[set[int]]:
    """The lines of code compiled as ``filename`` that ran in this thread, meanwhile."""
    ran: set[int] = set()

    def trace(frame: FrameType, event: str, arg: object) -> Any:
        if frame.f_code.co_filename != filename:
            return None
        if event == "line":
            ran.add(frame.f_lineno)
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        yield ran
    finally:
        sys.settrace(previous)


@pytest.fixture(scope="module")
def local_events() -> Iterator[LocalBatch]:
    """A LocalBatch that emits job state-change events, for the pages that wait on them."""
    with LocalBatch(mode="run", events=True) as local:
        yield local
        asyncio.run(_settle(local))


@pytest.mark.parametrize("block", of_kind("program"), ids=lambda b: b.id)
async def test_program_blocks_run(
    block: Block, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # events.md's program waits on events: a first look within milliseconds sees its job
    # still running, and only an event (or the reconciliation, minutes later) ends the wait.
    local: LocalBatch = request.getfixturevalue(
        "local_events" if block.page == "events.md" else "local"
    )
    monkeypatch.setenv("AWS_BATCH_ENDPOINT_URL", local.endpoint_url)
    monkeypatch.setenv("AWS_BATCH_JOB_QUEUE", local.job_queue)
    monkeypatch.setenv("AWS_BATCH_JOB_DEFINITION", local.job_definition)
    monkeypatch.setenv("AWS_REGION", local.region)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", local.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", local.endpoint_url)
    code = compile(block.code, block.id, "exec")
    # asyncio.run() needs a thread without a running loop.
    await asyncio.wait_for(asyncio.to_thread(exec, code, {"__name__": "__main__"}), 120)


PYTEST_PAGES = sorted({b.page for b in of_kind("pytest")})


@pytest.fixture(scope="module", autouse=True)
def page_test_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Start each page's pytest run when the module starts; ``test_pytest_blocks_pass`` reads it.

    The runs start their own LocalBatches, which takes seconds: started first, they overlap
    with the other tests of the module instead of adding to them.
    """
    wanted = {
        page
        for item in request.session.items
        if item.name.startswith("test_pytest_blocks_pass[")
        for page in PYTEST_PAGES
        if item.name == f"test_pytest_blocks_pass[{page}]"
    }
    runs: dict[str, subprocess.Popen[str]] = {}
    for page in sorted(wanted):
        directory = tmp_path_factory.mktemp(page.replace(".", "_"))
        for block in of_kind("pytest"):
            if block.page == page:
                (directory / f"test_block_{block.line}.py").write_text(block.code)
        (directory / "pytest.ini").write_text(
            "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
            "filterwarnings = error\n"
        )
        runs[page] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(directory)],
            cwd=directory,
            env=_isolated_environment(directory),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    yield runs
    for run in runs.values():
        if run.poll() is None:
            run.kill()
        run.communicate()


def _isolated_environment(directory: Path) -> dict[str, str]:
    """This process's environment without the caller's AWS settings, with fake keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=str(directory / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(directory / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=os.pathsep.join([str(EXAMPLES), str(ROOT)]),
    )
    return env


@pytest.mark.parametrize("page", PYTEST_PAGES)
def test_pytest_blocks_pass(page: str, page_test_runs: dict[str, subprocess.Popen[str]]) -> None:
    output, _ = page_test_runs[page].communicate(timeout=300)
    assert page_test_runs[page].returncode == 0, output[-6000:]
    assert re.search(r"\b\d+ passed\b", output), output[-2000:]


# ---------------------------------------------------------------------------------------------
# iam.md's policies

#: Every IAM action a call of the library makes (docs/iam.md's features).
LIBRARY_ACTIONS = {
    "batch:SubmitJob",
    "batch:TagResource",
    "batch:DescribeJobDefinitions",
    "batch:DescribeJobs",
    "batch:ListJobs",
    "batch:CancelJob",
    "batch:TerminateJob",
    "batch:DescribeJobQueues",
    "batch:DescribeComputeEnvironments",
    "batch:GetJobQueueSnapshot",
    "batch:SubmitServiceJob",
    "batch:DescribeServiceJob",
    "batch:ListServiceJobs",
    "batch:TerminateServiceJob",
    "batch:UpdateServiceJob",
    "logs:GetLogEvents",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:CreateQueue",
    "sqs:SetQueueAttributes",
    "events:PutRule",
    "events:PutTargets",
}


def test_iam_policies_are_json_and_name_the_library_actions() -> None:
    policies = [json.loads(b.code) for b in ALL_BLOCKS if b.page == "iam.md" and b.lang == "json"]
    assert policies
    named: set[str] = set()
    for policy in policies:
        statements = policy.get("Statement", [policy])
        for statement in statements:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            named |= {actions} if isinstance(actions, str) else set(actions)
    assert named == LIBRARY_ACTIONS


if __name__ == "__main__":  # copy the examples into the pages that show them
    for name in PAGES:
        path = DOCS / name
        before = path.read_text()
        after = with_examples_copied(before)
        if after != before:
            path.write_text(after)
            print(f"copied the examples into docs/{name}")
