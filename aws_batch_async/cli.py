"""The ``aws-batch-async`` command line: submit, watch and inspect AWS Batch jobs.

Installed as the console script ``aws-batch-async`` (and runnable as
``python -m aws_batch_async``) by the ``cli`` extra::

    pip install "aws-batch-async[cli]"
    aws-batch-async demo                       # a local Batch, no AWS account needed
    aws-batch-async submit --wait -- echo hi   # against your AWS account

The commands live in the private ``aws_batch_async._cli`` package; this module is the public
entry point. Importing ``aws_batch_async`` never imports this module, typer or rich, so the
library stays light.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

_MISSING_EXTRA = (
    "aws-batch-async: error: the command line needs typer and rich, which are missing "
    '({name}): pip install "aws-batch-async[cli]"'
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: The arguments, without the program name; ``sys.argv[1:]`` by default.

    Returns:
        The process exit code: 0 on success, 1 on an error, 2 on a usage error, 3 when a job
        that was waited for failed, 4 when a wait timed out, 130 when interrupted.
    """
    try:
        import rich  # noqa: F401
        import typer  # noqa: F401
    except ImportError as exc:
        print(_MISSING_EXTRA.format(name=exc.name or exc), file=sys.stderr)
        return 1
    from ._cli._app import run

    return run(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
