"""``JobDetail.raw``: a job exactly as AWS returned it, read-only, environment values masked.

:func:`freeze` wraps a DescribeJobs job in :class:`FrozenDict`: a read-only mapping whose nested
objects come back as :class:`FrozenDict` and whose lists come back as read-only
:class:`FrozenList` sequences, so nothing reachable from it can be changed through it.

It is a view, not a copy (like :class:`types.MappingProxyType`): wrapping costs nothing, where a
deep copy would double the time to parse a ``JobDetail`` (the poller parses thousands a sweep).
The dicts the library parses come straight from botocore and are never changed afterwards; whoever
parses a dict of their own and changes it later sees the change in ``raw`` too.

Environment and parameter values are secrets: the repr of a ``FrozenDict`` or ``FrozenList``
shows every ``value`` of an ``environment`` or ``env`` list (ECS, EKS), and every value of the
``parameters`` map, as ``***``. Reading the item itself
(``raw["container"]["environment"][0]["value"]``) still gives the value: ``raw`` is what AWS said.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

from .base import MASK

__all__ = ["ENVIRONMENT_KEYS", "PARAMETERS_KEY", "FrozenDict", "FrozenList", "freeze", "unwrap"]

#: Keys whose list holds ``{"name": ..., "value": ...}`` environment variables.
ENVIRONMENT_KEYS = frozenset({"environment", "env"})
#: The key of the job's parameters, whose values reprs mask too.
PARAMETERS_KEY = "parameters"


class FrozenDict(Mapping[str, Any]):
    """A read-only view of a JSON object; see the module docstring.

    Equal to any mapping with equal items (a plain ``dict`` included); not hashable.
    """

    __slots__ = ("_data", "_secret")

    def __init__(self, data: dict[str, Any], *, secret: bool = False) -> None:
        self._data = data
        self._secret = secret  # an environment variable: its "value" is masked in the repr

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._data[key], key in ENVIRONMENT_KEYS)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{key!r}: {self._shown(key)}" for key in self._data) + "}"

    def _shown(self, key: str) -> str:
        value = self._data[key]
        if self._secret and key == "value":
            return repr(MASK)
        if key == PARAMETERS_KEY and type(value) is dict:
            return repr(dict.fromkeys(value, MASK))
        return repr(self[key])

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_dict, (self._data, self._secret))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self  # nothing in it can change


class FrozenList(Sequence[Any]):
    """A read-only view of a JSON array; equal to a list or tuple with equal items."""

    __slots__ = ("_data", "_environment")

    def __init__(self, data: list[Any] | tuple[Any, ...], *, environment: bool = False) -> None:
        self._data = data
        self._environment = environment  # the list of an "environment"/"env" key

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> FrozenList: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return FrozenList(self._data[index], environment=self._environment)
        item = self._data[index]
        if self._environment and type(item) is dict:
            return FrozenDict(item, secret=True)
        return _wrap(item, False)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (list, tuple, FrozenList)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "[" + ", ".join(repr(item) for item in self) + "]"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_list, (self._data, self._environment))

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList:
        return self


def freeze(data: dict[str, Any]) -> FrozenDict:
    """A read-only view of a job as AWS returned it (see the module docstring).

    Args:
        data: A DescribeJobs job.

    Returns:
        The :class:`FrozenDict` over it.
    """
    return FrozenDict(data)


def unwrap(frozen: FrozenDict) -> dict[str, Any]:
    """The private dict under ``frozen``, for reading only (to validate it again)."""
    return frozen._data


def _wrap(value: Any, environment: bool) -> Any:
    kind = type(value)
    if kind is dict:
        return FrozenDict(value)
    if kind is list or kind is tuple:
        return FrozenList(value, environment=environment)
    return value


def _rebuild_dict(data: dict[str, Any], secret: bool) -> FrozenDict:
    return FrozenDict(data, secret=secret)


def _rebuild_list(data: list[Any] | tuple[Any, ...], environment: bool) -> FrozenList:
    return FrozenList(data, environment=environment)
