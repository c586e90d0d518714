"""Async generators that say how to use them when awaited: ``IterateOnly``.

``await batch.list_jobs()`` is an easy slip (every other method is awaited), and Python's own
answer, "object async_generator can't be used in 'await' expression", names neither the method
nor the fix. :class:`IterateOnly` wraps the generator a listing method returns; iterating it is
iterating the generator, while awaiting it (or a plain ``for``) raises a ``TypeError`` that
says to use ``async for``, and how to collect a list.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Iterator
from typing import Any, NoReturn, TypeVar

__all__ = ["IterateOnly"]

_T = TypeVar("_T")


class IterateOnly(AsyncGenerator[_T, None]):
    """An async generator (``async for``, ``aclose``...) that refuses ``await`` with a hint.

    Args:
        generator: The generator to iterate.
        call: How the user called it (``"batch.list_jobs(...)"``), for the error message.
    """

    __slots__ = ("_call", "_generator")

    def __init__(self, generator: AsyncGenerator[_T, None], call: str) -> None:
        self._generator = generator
        self._call = call

    def __await__(self) -> Generator[Any, None, NoReturn]:
        raise TypeError(self._hint("cannot be awaited"))

    def __iter__(self) -> Iterator[_T]:
        raise TypeError(self._hint("is not a plain iterable"))

    def _hint(self, what: str) -> str:
        item = "event" if "get_logs" in self._call else "job"
        return (
            f"{self._call} returns an async iterator, which {what}: iterate it with "
            f"`async for {item} in {self._call}:`, or collect a list with "
            f"`[{item} async for {item} in {self._call}]`"
        )

    def __anext__(self) -> Any:
        return self._generator.__anext__()

    def asend(self, value: None) -> Any:
        return self._generator.asend(value)

    def athrow(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        if val is None and tb is None:
            return self._generator.athrow(typ)
        return self._generator.athrow(typ, val, tb)  # pragma: no cover - the old signature

    def aclose(self) -> Any:
        return self._generator.aclose()

    def __repr__(self) -> str:
        return f"<async iterator of {self._call}>"
