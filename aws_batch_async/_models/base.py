"""What every model shares: the pydantic configuration, AWS's epoch-millisecond times, the mask.

Requests (``extra="forbid"``) and responses (``extra="ignore"``, so fields that newer AWS
versions add never break a user) are frozen pydantic v2 models with snake_case fields and AWS's
camelCase as aliases. Validation errors never echo input values (they may be secrets).
"""

from __future__ import annotations

import typing
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = ["MASK", "EpochMillis", "Model", "Response", "unbuilt_models"]

#: What reprs show instead of a secret value.
MASK = "***"

_MIN = datetime.min.replace(tzinfo=timezone.utc)
_MAX = datetime.max.replace(tzinfo=timezone.utc)


def _clamp(value: Any) -> Any:
    """Reached only when a number is beyond what a datetime holds (pydantic refused it)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _MIN if value < 0 else _MAX  # NaN: the far future
    return value


#: A datetime that AWS sends as milliseconds since the epoch, clamped to what a datetime holds.
#: Parsed by pydantic itself (``val_temporal_unit="milliseconds"`` in :class:`Response`), so
#: it costs no Python call; only a number out of range reaches :func:`_clamp`. Use it in
#: :class:`Response` models only.
EpochMillis = Annotated[
    datetime | Annotated[datetime, BeforeValidator(_clamp)],
    Field(union_mode="left_to_right"),
]


class Model(BaseModel):
    """Frozen, snake_case fields with camelCase aliases, no input values in errors."""

    model_config = ConfigDict(
        defer_build=True,
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        hide_input_in_errors=True,
    )


class Response(Model):
    """A model of something AWS returns: unknown fields are ignored, numbers given for
    datetimes are milliseconds since the epoch (AWS Batch's ``Long`` times)."""

    model_config = ConfigDict(extra="ignore", val_temporal_unit="milliseconds")


def unbuilt_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """``model`` and the models its fields hold, at any depth, whose deferred schema is not
    built yet: each after the models it holds.

    Built one at a time in this order, each reuses the schemas built before it, so the build
    (``defer_build``) can be cut into steps (``_waiting/poller.py``; figures in
    ``docs/performance.md``).

    Args:
        model: A pydantic model class.

    Returns:
        The models to build, leaves first, ``model`` last (empty once it is built).
    """
    order: list[type[BaseModel]] = []
    seen: set[type[BaseModel]] = set()

    def visit(cls: type[BaseModel]) -> None:
        if cls in seen or cls.__pydantic_complete__:
            return
        seen.add(cls)
        for field in cls.model_fields.values():
            hints: list[Any] = [field.annotation]
            while hints:
                hint = hints.pop()
                if isinstance(hint, type) and issubclass(hint, BaseModel):
                    visit(hint)
                hints.extend(typing.get_args(hint))
        order.append(cls)

    visit(model)
    return order
