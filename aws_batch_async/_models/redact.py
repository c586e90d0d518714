"""Validation errors without their input: for models that carry secrets.

pydantic's ``hide_input_in_errors`` hides the input from ``str(error)`` only; ``.errors()`` and
``.json()`` still carry it, and logging frameworks and error trackers serialise those. A model
that derives from :class:`RedactedErrors` raises validation errors whose every ``input`` is
:data:`~aws_batch_async._models.base.MASK`, whether it is validated alone or nested in another model
(the redaction wraps the model's whole schema, so it also covers its ``model_validator``\\ s).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

from .base import MASK

__all__ = ["RedactedErrors", "redact"]


class RedactedErrors(BaseModel):
    """A model whose validation errors never carry the input (``.errors()``, ``.json()``)."""

    model_config = ConfigDict(defer_build=True)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[BaseModel], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_wrap_validator_function(_validate_redacted, handler(source))


def redact(error: ValidationError) -> ValidationError:
    """The same errors (type, location, message, context) with every input masked.

    Args:
        error: A validation error.

    Returns:
        A new :class:`~pydantic.ValidationError` with ``input`` set to ``"***"``.
    """
    details: list[InitErrorDetails] = []
    for line in error.errors(include_url=False, include_input=False):
        detail: InitErrorDetails = {"type": line["type"], "loc": line["loc"], "input": MASK}
        if "ctx" in line:
            detail["ctx"] = line["ctx"]
        details.append(detail)
    try:
        return ValidationError.from_exception_data(error.title, details, hide_input=True)
    except (KeyError, TypeError, ValueError):  # a custom error type pydantic-core does not know
        custom: list[InitErrorDetails] = [
            {
                "type": PydanticCustomError(line["type"], line["msg"]),
                "loc": line["loc"],
                "input": MASK,
            }
            for line in error.errors(include_url=False, include_input=False)
        ]
        return ValidationError.from_exception_data(error.title, custom, hide_input=True)


def _validate_redacted(value: Any, handler: core_schema.ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError as exc:
        error = redact(exc)
    raise error  # outside the handler: the original error is not kept as __context__
