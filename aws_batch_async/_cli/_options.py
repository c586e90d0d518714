"""The flags every command shares, declared once, and the options object they become.

Each command that talks to AWS Batch takes the connection flags (``--region``, ``--profile``,
``--endpoint-url``, ``--job-queue``, ``--job-definition``) and the output flags (``--json``,
``--debug``) after its name, as in ``aws-batch-async status --json ID``. Rather than repeat
them on every command, :func:`shared_options` adds them to a command's signature and hands the
command one :class:`CommonOptions` instead::

    @shared_options()
    def status(job_ids: JobIds, *, options: CommonOptions) -> None: ...

The flags win over the environment (``AWS_BATCH_JOB_QUEUE``, ``AWS_BATCH_JOB_DEFINITION``,
``AWS_BATCH_ENDPOINT_URL``, ``AWS_REGION``), and botocore resolves whatever neither sets.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import typer

from aws_batch_async import BatchConfig, PollPolicy

from ._errors import CLIError
from ._output import Output

__all__ = [
    "CLI_POLL",
    "AttemptTimeout",
    "Command",
    "CommonOptions",
    "Connection",
    "Debug",
    "EnvVars",
    "JobIds",
    "JobName",
    "Json",
    "MemoryMib",
    "Tags",
    "Vcpus",
    "shared_options",
]

#: How the command line polls while waiting: quicker than the library's 30 s ceiling, since a
#: person is watching; still coalesced into DescribeJobs calls of up to 100 ids. The jobs it
#: waits on were submitted by another process (an earlier command): each id gets the grace.
CLI_POLL = PollPolicy(initial_interval=1.0, max_interval=10.0, not_found_grace_all_ids=True)

_CONNECTION = "Connection"
_OUTPUT = "Output"

Json = Annotated[
    bool,
    typer.Option("--json", help="Print JSON on stdout and nothing else.", rich_help_panel=_OUTPUT),
]
Debug = Annotated[
    bool,
    typer.Option(
        "--debug", help="Log API calls; show tracebacks on errors.", rich_help_panel=_OUTPUT
    ),
]
Region = Annotated[
    str | None,
    typer.Option(
        "--region",
        metavar="REGION",
        help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's).",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
Profile = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="NAME",
        help="Named profile of the AWS config files (default: AWS_PROFILE, else default).",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
EndpointUrl = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        envvar="AWS_BATCH_ENDPOINT_URL",
        metavar="URL",
        help="Batch endpoint, e.g. a LocalBatch's (see `aws-batch-async local`).",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
JobQueue = Annotated[
    str | None,
    typer.Option(
        "--job-queue",
        envvar="AWS_BATCH_JOB_QUEUE",
        metavar="QUEUE",
        help="Job queue name or ARN.",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
JobDefinition = Annotated[
    str | None,
    typer.Option(
        "--job-definition",
        envvar="AWS_BATCH_JOB_DEFINITION",
        metavar="DEFINITION",
        help="Job definition: name, name:revision or ARN.",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
#: The job ids of ``status``, ``wait``, ``cancel`` and ``terminate``.
JobIds = Annotated[list[str], typer.Argument(metavar="JOB_ID...", show_default=False)]

# The job's flags that ``submit`` and ``run`` share.
Command = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="-- COMMAND",
        help="The command to run (default: the job definition's). Put it after `--`.",
        show_default=False,
    ),
]
JobName = Annotated[
    str | None,
    typer.Option("--name", "-n", metavar="NAME", help="Job name (default: job-<unique suffix>)."),
]
EnvVars = Annotated[
    list[str] | None,
    typer.Option(
        "--env",
        "-e",
        metavar="KEY=VALUE",
        help="Environment variable (repeatable); KEY alone copies it from this shell.",
    ),
]
Tags = Annotated[
    list[str] | None,
    typer.Option("--tag", "-t", metavar="KEY=VALUE", help="Tag (repeatable)."),
]
Vcpus = Annotated[float | None, typer.Option("--vcpus", metavar="N", help="vCPUs.")]
MemoryMib = Annotated[int | None, typer.Option("--memory", metavar="MIB", help="Memory in MiB.")]
AttemptTimeout = Annotated[
    int | None,
    typer.Option("--timeout", metavar="SECONDS", help="Attempt duration limit (>= 60)."),
]


@dataclass(frozen=True)
class Connection:
    """The connection flags of one command.

    Attributes:
        region: ``--region``.
        profile: ``--profile``.
        endpoint_url: ``--endpoint-url``.
        job_queue: ``--job-queue``.
        job_definition: ``--job-definition``.
    """

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    job_queue: str | None = None
    job_definition: str | None = None


@dataclass(frozen=True)
class CommonOptions:
    """What a command gets from the shared flags: where to print and how to connect.

    Attributes:
        out: Where to print; JSON only on stdout with ``--json``.
        connection: The connection flags (all ``None`` for commands without them).
        debug: ``--debug`` was given (:func:`~._app.run` acts on it before parsing).
    """

    out: Output
    connection: Connection = Connection()
    debug: bool = False

    def config(self, *, queue: bool = False, definition: bool = False) -> BatchConfig:
        """The :class:`BatchConfig`: the connection flags over the environment.

        Args:
            queue: A job queue is required.
            definition: A job definition is required.

        Returns:
            The configuration, polling at :data:`CLI_POLL`.

        Raises:
            CLIError: A required queue or definition is set by neither flag nor environment.
            pydantic.ValidationError: A flag's value is invalid.
        """
        flags = {k: v for k, v in asdict(self.connection).items() if v is not None}
        config = BatchConfig.from_env(**{"poll": CLI_POLL, **flags})
        if queue and not config.job_queue:
            raise CLIError("no job queue: use --job-queue or set AWS_BATCH_JOB_QUEUE")
        if definition and not config.job_definition:
            raise CLIError(
                "no job definition: use --job-definition or set AWS_BATCH_JOB_DEFINITION"
            )
        return config


#: The shared flags: parameter name, annotation (the flag's declaration) and default.
_OUTPUT_FLAGS: tuple[tuple[str, Any, Any], ...] = (("json_", Json, False), ("debug", Debug, False))
_CONNECTION_FLAGS: tuple[tuple[str, Any, Any], ...] = (
    ("region", Region, None),
    ("profile", Profile, None),
    ("endpoint_url", EndpointUrl, None),
    ("job_queue", JobQueue, None),
    ("job_definition", JobDefinition, None),
)

_Command = Callable[..., None]


def shared_options(*, json: bool = True, connection: bool = True) -> Callable[[_Command], _Command]:
    """Add the shared flags to a command; it receives them as ``options: CommonOptions``.

    The decorated function declares a keyword-only ``options`` parameter. typer sees, in its
    place, ``--json`` and ``--debug`` (in the "Output" help panel) and the connection flags
    (in the "Connection" panel), after the command's own parameters.

    Args:
        json: Add ``--json`` (``--debug`` is always added).
        connection: Add the connection flags.

    Returns:
        The decorator.

    Raises:
        TypeError: The command has no ``options`` parameter, or one named like a shared flag.
    """
    flags = [f for f in _OUTPUT_FLAGS if json or f[0] != "json_"]
    if connection:
        flags.extend(_CONNECTION_FLAGS)
    names = [name for name, _, _ in flags]
    connection_names = {name for name, _, _ in _CONNECTION_FLAGS}

    def decorate(command: _Command) -> _Command:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != "options"]
        if len(own) == len(signature.parameters):
            raise TypeError(f"{command.__name__} needs a keyword-only `options` parameter")
        if clash := {p.name for p in own} & set(names):
            raise TypeError(f"{command.__name__}: parameters named like shared flags: {clash}")
        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=value)
            for name, kind, value in flags
        ]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> None:
            shared = {name: kwargs.pop(name) for name in names}
            options = CommonOptions(
                out=Output(json_mode=bool(shared.get("json_", False))),
                connection=Connection(**{k: v for k, v in shared.items() if k in connection_names}),
                debug=bool(shared["debug"]),
            )
            command(**kwargs, options=options)

        parameters = [*own, *added]
        # typer reads the signature and the type hints: both must describe the flags, not
        # `options`.
        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
        return wrapper

    return decorate
