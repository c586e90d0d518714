"""pytest plugin of aws-batch-async: a local AWS Batch as fixtures.

Installed with the package (entry point ``pytest11``, name ``aws_batch_async``), so any test
can ask for these fixtures; disable the plugin with ``-p no:aws_batch_async``:

* ``local_batch`` (**session** scope): one :class:`~aws_batch_async.testing.LocalBatch` in
  "instant" mode shared by every test of the session, started on first use. Jobs accumulate
  across tests: tell them apart by job id or job name.
* ``local_batch_factory`` (function scope): a function ``factory(mode="instant", **options)``
  taking :class:`~aws_batch_async.testing.LocalBatch`'s arguments; each call starts one, and
  all are stopped when the test ends. For a module- or session-wide LocalBatch of another
  mode, write a fixture around ``with LocalBatch(mode=...) as local: yield local``.

Both are synchronous fixtures, so they serve sync tests and async tests (any event loop) alike::

    async def test_my_api(local_batch):
        async with BatchService(local_batch.config) as batch:
            ...

The plugin imports nothing heavy when pytest loads it (moto is only ever imported in
LocalBatch's child process) and adds no hooks: it does not change tests that do not use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._child import Mode
    from ._local import LocalBatch

__all__ = ["local_batch", "local_batch_factory"]


@pytest.fixture(scope="session")
def local_batch() -> Iterator[LocalBatch]:
    """A LocalBatch in "instant" mode, shared by the whole test session."""
    from ._local import LocalBatch

    with LocalBatch(mode="instant") as local:
        yield local


@pytest.fixture
def local_batch_factory() -> Iterator[Callable[..., LocalBatch]]:
    """Start LocalBatches of any mode; each is stopped when the test ends."""
    from ._local import LocalBatch

    started: list[LocalBatch] = []

    def factory(mode: Mode = "instant", **options: Any) -> LocalBatch:
        local = LocalBatch(mode, **options)
        local.start_sync()
        started.append(local)
        return local

    yield factory
    for local in reversed(started):
        local.close()
