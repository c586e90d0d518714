"""``aws-batch-async explain``, ``queues`` and ``definitions``: why a job waits, what it runs on.

``explain`` (alias ``why``) prints :meth:`~aws_batch_async.BatchService.explain`'s diagnosis:
the verdict, the reasons a person can act on, and the job's status and queue; it exits 0
whatever the verdict. ``queues`` shows job queues with their compute environments (state,
status, reason, capacity); ``definitions`` shows job definitions (ACTIVE ones unless
``--all``). With ``--json``, ``explain`` prints one object and the other two an array, as the
library's models dump them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any, Literal, TypeVar

import typer
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from aws_batch_async import (
    BatchService,
    ComputeEnvironment,
    JobDefinition,
    JobDiagnosis,
    JobKind,
    JobQueue,
    StuckReason,
)

from .._errors import CLIError, run_async
from .._jobs import aclose
from .._options import CommonOptions, shared_options
from .._output import status_text, to_json

__all__ = ["definitions", "explain", "queues"]

#: How each verdict is coloured: information in blue and green, trouble in yellow and red.
VERDICT_STYLES: dict[StuckReason, str] = {
    StuckReason.FINISHED: "green",
    StuckReason.RUNNING: "blue",
    StuckReason.QUEUED: "cyan",
    StuckReason.WAITING_FOR_DEPENDENCIES: "yellow",
    StuckReason.UNKNOWN: "yellow",
}
_TROUBLE = "bold red"
#: How states and statuses of queues and compute environments are coloured.
_STATE_STYLES = {"DISABLED": "yellow", "INVALID": "bold red", "DELETING": "dim", "DELETED": "dim"}


@shared_options()
def explain(
    job_id: Annotated[str, typer.Argument(metavar="JOB_ID", show_default=False)],
    *,
    options: CommonOptions,
) -> None:
    """Explain why a job is where it is, above all why it waits in RUNNABLE.

    Reads, as far as needed, its dependencies, queue, compute environments and the queue's front.

    Exits 0 whatever the verdict (it is information), 1 on errors. `why` is the same command.

    Example: aws-batch-async explain 0c7e...
    """
    run_async(_explain(options, job_id))


async def _explain(options: CommonOptions, job_id: str) -> int:
    out = options.out
    async with BatchService(options.config()) as batch:
        diagnosis = await batch.explain(job_id)
    if out.json_mode:
        out.json(diagnosis_json(diagnosis))
    else:
        out.out.print(diagnosis_view(diagnosis))
    return 0


def diagnosis_json(diagnosis: JobDiagnosis) -> dict[str, Any]:
    """The diagnosis as ``explain --json`` shows it, the job's id, verdict and reasons first.

    Then what was read (``requested``, ``queue``, ``compute_environments``, ``position``) and
    last the job itself, as the library's model dumps it.
    """
    data: dict[str, Any] = to_json(diagnosis)
    job = data.pop("job")
    return {"job_id": diagnosis.job.job_id, **data, "job": job}


def diagnosis_view(diagnosis: JobDiagnosis) -> Group:
    """The diagnosis for people: the job's facts and the verdict, then a bullet per reason."""
    job = diagnosis.job
    facts = Table(show_header=False, box=None, padding=(0, 2, 0, 0), pad_edge=False)
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    queue = diagnosis.queue.name if diagnosis.queue else _short(job.job_queue)
    rows: list[tuple[str, str | Text | None]] = [
        ("Job", f"{job.job_id} ({job.job_name})"),
        ("Status", status_text(job.status)),
        ("Status reason", job.status_reason),
        ("Queue", queue),
        ("Position", None if diagnosis.position is None else _position(diagnosis.position)),
        ("Asks for", None if diagnosis.requested is None else str(diagnosis.requested)),
        ("Verdict", Text(diagnosis.verdict.value, style=verdict_style(diagnosis.verdict))),
    ]
    for name, value in rows:
        if value:  # plain strings as they are: a status reason may hold [brackets]
            facts.add_row(name, Text(value) if isinstance(value, str) else value)
    reasons = Table(show_header=False, box=None, padding=(0, 1, 0, 0), pad_edge=False)
    reasons.add_column(no_wrap=True)
    reasons.add_column(overflow="fold")
    for reason in diagnosis.reasons:
        reasons.add_row("-", Text(reason))
    return Group(facts, Text(""), reasons) if diagnosis.reasons else Group(facts)


def _position(position: int) -> str:
    return "at the head of the queue" if position == 1 else f"number {position} in the queue"


def verdict_style(verdict: StuckReason) -> str:
    """The verdict's colour."""
    return VERDICT_STYLES.get(verdict, _TROUBLE)


# ---------------------------------------------------------------------------------------------
# queues


@shared_options()
def queues(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[NAME...]",
            help="Queue names or ARNs (default: every queue).",
            show_default=False,
        ),
    ] = None,
    *,
    options: CommonOptions,
) -> None:
    """Show job queues and their compute environments: states, statuses, reasons, capacity.

    Example: aws-batch-async queues my-queue
    """
    run_async(_queues(options, names or None))


async def _queues(options: CommonOptions, names: list[str] | None) -> int:
    out = options.out
    wanted = None if names is None else list(dict.fromkeys(names))
    async with BatchService(options.config()) as batch:
        found = await _collect(batch.describe_job_queues(wanted))
        if wanted is not None:
            known = {q.name for q in found} | {q.arn for q in found}
            _not_found("job queue", [n for n in wanted if n not in known])
        arns = list(dict.fromkeys(a for q in found for a in q.compute_environments))
        environments = await _collect(batch.describe_compute_environments(arns)) if arns else []
    by_ref = {e.arn: e for e in environments} | {e.name: e for e in environments}
    if out.json_mode:
        out.json([queue_json(q, by_ref) for q in found])
    elif not found:
        out.err.print("No job queues.")
    else:
        out.out.print(queues_table(found, by_ref))
    return 0


def queue_json(queue: JobQueue, environments: dict[str, ComputeEnvironment]) -> dict[str, Any]:
    """A queue as ``queues --json`` shows it: the model, with its compute environments in order.

    Args:
        queue: The queue.
        environments: Compute environments by ARN (and name); the missing ones are left out.
    """
    data: dict[str, Any] = to_json(queue)
    data["compute_environments"] = [
        to_json(environments[arn]) for arn in queue.compute_environments if arn in environments
    ]
    return data


def queues_table(found: Sequence[JobQueue], environments: dict[str, ComputeEnvironment]) -> Table:
    """Each queue on a row, its compute environments under it in the order AWS tries them.

    The instance types column appears only when some compute environment has them.
    """
    envs = [e for q in found for a in q.compute_environments if (e := environments.get(a))]
    with_types = any(e.compute_resources and e.compute_resources.instance_types for e in envs)
    table = Table(
        header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, title=None
    )
    table.add_column("QUEUE / COMPUTE ENVIRONMENT", overflow="fold", min_width=12)
    table.add_column("PRIORITY", justify="right", no_wrap=True)
    table.add_column("STATE", no_wrap=True)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("TYPE", no_wrap=True)
    table.add_column("VCPUS MIN/DESIRED/MAX", justify="right", no_wrap=True)
    if with_types:
        table.add_column("INSTANCE TYPES", overflow="fold")
    table.add_column("REASON", overflow="fold", min_width=10)
    for queue in found:
        cells: list[str | Text] = [
            Text(queue.name, style="bold"),
            "-" if queue.priority is None else str(queue.priority),
            _state(queue.state),
            _state(queue.status),
            queue.job_queue_type or "",
            "",
        ]
        if with_types:
            cells.append("")
        table.add_row(*cells, Text(queue.status_reason or ""))
        for order, arn in enumerate(queue.compute_environments, start=1):
            env = environments.get(arn)
            if env is None:
                missing: list[str | Text] = [f"  {order}. {_short(arn)}", "", "-", "-", "", ""]
                if with_types:
                    missing.append("")
                table.add_row(*missing, Text("not found (deleted?)", style="yellow"))
                continue
            resources = env.compute_resources
            row: list[str | Text] = [
                f"  {order}. {env.name}",
                "",
                _state(env.state),
                _state(env.status),
                _environment_type(env),
                _capacity(env),
            ]
            if with_types:
                row.append(", ".join(resources.instance_types) if resources else "")
            table.add_row(*row, Text(env.status_reason or ""))
    return table


def _environment_type(env: ComputeEnvironment) -> str:
    """``MANAGED EC2``, ``MANAGED FARGATE_SPOT``, ``UNMANAGED``...; EKS is named."""
    kind = env.type or "-"
    resources = env.compute_resources
    if resources is not None and resources.type:
        kind = f"{kind} {resources.type}"
    if env.container_orchestration_type == "EKS":
        kind += " (EKS)"
    return kind


def _capacity(env: ComputeEnvironment) -> str:
    resources = env.compute_resources
    if resources is None:
        return "-" if env.unmanaged_vcpus is None else f"{env.unmanaged_vcpus} (unmanaged)"
    return "/".join(
        "-" if v is None else str(v)
        for v in (resources.min_vcpus, resources.desired_vcpus, resources.max_vcpus)
    )


def _state(value: str | None) -> Text:
    if value is None:
        return Text("-", style="dim")
    return Text(value, style=_STATE_STYLES.get(value, ""))


# ---------------------------------------------------------------------------------------------
# definitions


@shared_options()
def definitions(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="[NAME]",
            help="A name (every revision), name:revision or ARN (default: every definition).",
            show_default=False,
        ),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", "-a", help="Include INACTIVE (deregistered) revisions.")
    ] = False,
    *,
    options: CommonOptions,
) -> None:
    """Show job definitions: name:revision, kind, platform, vCPUs, memory, GPUs, status.

    Only ACTIVE revisions unless --all; newest revision first.

    Example: aws-batch-async definitions my-definition --all
    """
    run_async(_definitions(options, name, status=None if all_ else "ACTIVE"))


async def _definitions(
    options: CommonOptions, name: str | None, *, status: Literal["ACTIVE"] | None
) -> int:
    out = options.out
    async with BatchService(options.config()) as batch:
        found = await _collect(batch.describe_job_definitions(name, status=status))
    found.sort(key=lambda d: (d.name, -d.revision))
    if name is not None and not found:
        hint = " (--all shows INACTIVE revisions)" if status else ""
        raise CLIError(f"job definition {name!r} was not found{hint}")
    if out.json_mode:
        out.json(found)
    elif not found:
        out.err.print("No job definitions.")
    else:
        out.out.print(definitions_table(found))
    return 0


def definitions_table(found: Sequence[JobDefinition]) -> Table:
    """One row per revision: name:revision, kind, platform, vCPUs, memory, GPUs, status."""
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("DEFINITION", overflow="fold", min_width=12)
    table.add_column("KIND", no_wrap=True)
    table.add_column("PLATFORM", no_wrap=True)
    table.add_column("VCPUS", justify="right", no_wrap=True)
    table.add_column("MEMORY", justify="right", no_wrap=True)
    table.add_column("GPUS", justify="right", no_wrap=True)
    table.add_column("STATUS", no_wrap=True)
    for definition in found:
        asked = definition.resources
        table.add_row(
            f"{definition.name}:{definition.revision}",
            definition.kind.value,
            definition.platform or ("-" if definition.kind is JobKind.EKS else "EC2"),
            "-" if asked.vcpus is None else f"{asked.vcpus:g}",
            "-" if asked.memory_mib is None else f"{asked.memory_mib} MiB",
            "-" if not asked.gpus else str(asked.gpus),
            Text(definition.status or "-", style="" if definition.is_active else "dim"),
        )
    return table


# ---------------------------------------------------------------------------------------------
# helpers

_T = TypeVar("_T")


async def _collect(listing: AsyncIterator[_T]) -> list[_T]:
    """Every item of a listing, the listing closed however it ends."""
    try:
        return [item async for item in listing]
    finally:
        await aclose(listing)


def _not_found(what: str, missing: list[str]) -> None:
    if len(missing) == 1:
        raise CLIError(f"{what} {missing[0]!r} was not found")
    if missing:
        raise CLIError(f"{what}s not found: {', '.join(missing)}")


def _short(ref: str | None) -> str | None:
    """A queue's or environment's name from its ARN (a name stays as it is)."""
    return None if ref is None else ref.rsplit("/", 1)[-1]
