"""The public path of public classes whose modules load on first use.

The package (``__init__.py``) gives each public class ``__module__ == "aws_batch_async"``, as
httpx does, so tracebacks, reprs, pickles and the docs show ``aws_batch_async.JobQueue``. The
modules of the names in its ``_LAZY`` table load on first use, often through the service rather
than through the package, so each of them calls :func:`publish` as its last statement.
"""

from __future__ import annotations

import sys

__all__ = ["publish"]

PACKAGE = "aws_batch_async"


def publish(module: str) -> None:
    """Give the public classes of ``module`` (those the package's ``_LAZY`` names) its path.

    Args:
        module: The private module's ``__name__``; it must be fully executed.
    """
    lazy: dict[str, str] = getattr(sys.modules.get(PACKAGE), "_LAZY", {})
    namespace = vars(sys.modules[module])
    relative = module.removeprefix(PACKAGE)
    for name, source in lazy.items():
        obj = namespace.get(name)
        if source == relative and isinstance(obj, type):
            obj.__module__ = PACKAGE
