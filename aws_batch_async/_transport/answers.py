"""What a 2xx answer must be before the library reads it, and the error for one that is not.

An answer can arrive damaged: a proxy's HTML page with status 200, JSON cut short, ``{}`` or
JSON of another shape. botocore hands such a body on as ``{"message": <body>}`` (or crashes
on the shape with an ``AttributeError``), and the library would then read it as "no jobs", a
``KeyError`` or a pydantic ``ValidationError``. Every 2xx answer of a JSON protocol is checked
here first, on the fast path (``_transport/fast_path.py``) and on botocore's (a ``before-parse``
handler), in one pass over the top of the answer:

* the body is empty or a JSON object;
* each member present has the JSON type of its modelled shape, and so does each item of a
  top-level list (one level deep: a DescribeJobs page of 100 jobs costs some 65 µs);
* the members the library relies on are there (:data:`_REQUIRED`, :data:`_ITEM_REQUIRED`),
  although AWS's model calls some of them optional.

An answer botocore parses (every operation off the fast path) is also checked all the way
down, containers only (:meth:`AnswerChecks.deep_problem`): botocore's parser crashes with an
``AttributeError`` or a ``TypeError`` on a number where a structure is modelled.

A failed check raises :class:`~aws_batch_async.MalformedResponseError`, whose ``body_head``
keeps the body's first bytes with environment and parameter values masked. Deeper damage
shows when the library builds its models or indexes into the answer: :func:`validate_answer`
turns pydantic's error into the same ``MalformedResponseError``, and code that indexes catches
:data:`ANSWER_DAMAGE` and raises :func:`damaged_answer`. The submit path treats it as a lost
answer (``_submitting/submitter.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .._errors import MalformedResponseError
from .wire import decode_json

__all__ = [
    "ANSWER_DAMAGE",
    "AnswerChecks",
    "body_head",
    "malformed",
    "damaged_answer",
    "validate_answer",
]

M = TypeVar("M", bound=BaseModel)

#: How many characters of a damaged body ``body_head`` keeps.
HEAD_CHARS = 256
#: Top-level members the library reads, whatever AWS's model says is required.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "SubmitJob": ("jobId", "jobName"),
    "DescribeJobs": ("jobs",),
    "ListJobs": ("jobSummaryList",),
    "GetLogEvents": ("events",),
}
#: Members each item of a top-level list must have (the models' required fields).
_ITEM_REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("DescribeJobs", "jobs"): ("jobId", "jobName", "status"),
    ("ListJobs", "jobSummaryList"): ("jobId", "jobName"),
    ("GetLogEvents", "events"): ("timestamp", "message"),
}
_JSON_PROTOCOLS = frozenset({"json", "rest-json"})

#: The JSON types of each kind of shape (``bool`` is refused where a number is modelled).
_TYPES: dict[str, tuple[type, ...]] = {
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
    "string": (str,),
    "blob": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),  # epoch seconds or milliseconds, or an ISO string
}
_NUMBERS = frozenset({"integer", "long", "float", "double", "timestamp"})
_ANY: tuple[type, ...] = (object,)
_JSON_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return _JSON_NAMES.get(type(value), type(value).__name__)


class _Kind:
    """What one kind of shape accepts: ``fits(value)``, in a tight loop."""

    __slots__ = ("name", "number", "types")

    def __init__(self, name: str) -> None:
        self.name = name
        self.types = _TYPES.get(name, _ANY)
        self.number = name in _NUMBERS

    def fits(self, value: Any) -> bool:
        return isinstance(value, self.types) and not (self.number and value.__class__ is bool)


class _Member:
    __slots__ = ("item", "item_members", "kind", "name")

    def __init__(self, name: str, shape: Any, operation: str) -> None:
        self.name = name
        self.kind = _Kind(shape.type_name)
        self.item: _Kind | None = None
        #: Members each item must have: (name, JSON types, a number?, the shape's kind).
        self.item_members: tuple[tuple[str, tuple[type, ...], bool, str], ...] = ()
        if shape.type_name == "list":
            item = shape.member
            self.item = _Kind(item.type_name)
            members = item.members if item.type_name == "structure" else {}
            kinds = {m: _Kind(member.type_name) for m, member in members.items()}
            self.item_members = tuple(
                (m, kinds[m].types, kinds[m].number, kinds[m].name)
                for m in _ITEM_REQUIRED.get((operation, name), ())
                if m in kinds
            )

    def item_problem(self, value: list[Any]) -> str | None:
        """What is wrong with an item of this list member's ``value``, or None."""
        assert self.item is not None
        types, number = self.item.types, self.item.number
        required = self.item_members
        for index, each in enumerate(value):
            if not isinstance(each, types) or (number and each.__class__ is bool):
                return f"{self.name}[{index}] is {_json_type(each)}"
            got: Any = each
            for name, want, numeric, kind in required:
                field = got.get(name)
                if field is None:
                    return f"{self.name}[{index}] has no {name}"
                if not isinstance(field, want) or (numeric and field.__class__ is bool):
                    what = _json_type(field)
                    return f"{self.name}[{index}].{name} is {what}, not a {kind}"
        return None


class AnswerCheck:
    """The check of one operation's 2xx answers (see the module docstring)."""

    __slots__ = ("members", "operation", "required")

    def __init__(self, operation_model: Any) -> None:
        self.operation: str = operation_model.name
        shape = operation_model.output_shape
        members = shape.members if shape is not None else {}
        self.members = tuple(_Member(name, m, self.operation) for name, m in members.items())
        self.required = _REQUIRED.get(self.operation, ())

    def problem(self, answer: Any) -> str | None:
        """What is wrong with a decoded answer (``None`` members count as absent), or None."""
        if not isinstance(answer, dict):
            return f"the answer is {_json_type(answer)}, not a JSON object"
        for name in self.required:
            if answer.get(name) is None:
                return f"the answer has no {name}"
        for member in self.members:
            value = answer.get(member.name)
            if value is None:
                continue
            if not member.kind.fits(value):
                return f"{member.name} is {_json_type(value)}, not a {member.kind.name}"
            if member.item is not None and (why := member.item_problem(value)) is not None:
                return why
        return None


class AnswerChecks:
    """The answer checks of one client's operations, compiled on first use.

    :meth:`before_parse` is the botocore handler (registered by :meth:`register`);
    :meth:`decode` is what the fast path calls instead.
    """

    def __init__(self) -> None:
        self._checks: dict[str, AnswerCheck] = {}
        self._deep: dict[str, _Plan] = {}

    def of(self, operation_model: Any) -> AnswerCheck:
        """The check of ``operation_model``'s answers."""
        check = self._checks.get(operation_model.name)
        if check is None:
            check = self._checks[operation_model.name] = AnswerCheck(operation_model)
        return check

    def register(self, client: Any) -> None:
        """Check every 2xx answer of ``client`` before botocore parses it (JSON protocols)."""
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(
            f"before-parse.{service}",
            self.before_parse,
            unique_id=f"aws-batch-async-answer-check-{service}",
        )

    def decode(self, operation_model: Any, body: bytes, headers: Any) -> dict[str, Any]:
        """A 2xx answer's JSON, nulls left out (``decode_json``), once it passed the check.

        Raises:
            MalformedResponseError: The answer is not the operation's result.
        """
        try:
            parsed = decode_json(body)
        except ValueError as exc:
            raise _error(operation_model.name, f"not JSON ({exc})", body, headers) from None
        why = self.of(operation_model).problem(parsed)
        if why is not None:
            raise _error(operation_model.name, why, body, headers)
        return parsed

    def check_body(self, operation_model: Any, body: bytes, headers: Any) -> None:
        """Check a 2xx answer's body that botocore's parser will read.

        Raises:
            MalformedResponseError: The answer is not the operation's result.
        """
        if not body:
            answer: Any = {}
        else:
            try:
                answer = json.loads(body)
            except ValueError as exc:
                raise _error(operation_model.name, f"not JSON ({exc})", body, headers) from None
        why = self.of(operation_model).problem(answer) or self.deep_problem(operation_model, answer)
        if why is not None:
            raise _error(operation_model.name, why, body, headers)

    def deep_problem(self, operation_model: Any, answer: dict[str, Any]) -> str | None:
        """What in a decoded answer, below its top, botocore's parser would crash on, or None.

        botocore reads a structure with ``.get``, a map with ``.items()`` and iterates a list:
        a number where a structure is modelled escapes it as an ``AttributeError``. Every
        container (and timestamp) the answer holds, at any depth, must have its shape's JSON
        type; ``null`` is absent; scalars are left to the models (``validate_answer``).
        """
        plan = self._deep.get(operation_model.name)
        if plan is None:
            shape = operation_model.output_shape
            plan = self._deep[operation_model.name] = (
                _plan(shape, {}) if shape is not None else None
            ) or _NOTHING
        failed = _walk(plan, answer)
        if failed is None:
            return None
        path, why = failed
        return f"{''.join(reversed(path)).lstrip('.') or 'the answer'} is {why}"

    def before_parse(
        self, operation_model: Any = None, response_dict: Any = None, **_: Any
    ) -> None:
        """botocore's ``before-parse`` event: check a 2xx answer of a JSON protocol."""
        if operation_model is None or not isinstance(response_dict, dict):
            return
        status = response_dict.get("status_code")
        if not isinstance(status, int) or not 200 <= status < 300:
            return
        model = operation_model.service_model
        if (getattr(model, "resolved_protocol", None) or model.protocol) not in _JSON_PROTOCOLS:
            return
        if operation_model.has_streaming_output or operation_model.has_event_stream_output:
            return
        body = response_dict.get("body")
        if isinstance(body, bytes):
            self.check_body(operation_model, body, response_dict.get("headers") or {})


def _error(operation: str, why: str, body: bytes, headers: Any) -> MalformedResponseError:
    return malformed(
        operation,
        why,
        body,
        status_code=200,
        request_id=headers.get("x-amzn-requestid") if hasattr(headers, "get") else None,
    )


def malformed(
    operation: str,
    why: str,
    body: bytes | str,
    *,
    status_code: int | None = None,
    request_id: str | None = None,
) -> MalformedResponseError:
    """The error for an answer that is not ``operation``'s result.

    Args:
        operation: The AWS operation.
        why: What is wrong with it.
        body: The answer (its head, masked, goes into ``body_head``).
        status_code: The HTTP status.
        request_id: AWS's request id, if the answer had one.
    """
    return MalformedResponseError(
        f"a damaged answer: {why}",
        operation=operation,
        body_head=body_head(body),
        status_code=status_code,
        request_id=request_id,
    )


_MASKS = (
    # environment (and EKS env) entries: {"name": ..., "value": ...}
    (re.compile(r'("value"\s*:\s*")(?:[^"\\]|\\.)*("|\\?$)'), r"\g<1>***\g<2>"),
    # parameters (a job's, a definition's): every value of the map
    (re.compile(r'("parameters"\s*:\s*\{)[^}]*(\}|$)'), r"\g<1>***\g<2>"),
)


def body_head(body: bytes | str) -> str:
    """The first :data:`HEAD_CHARS` characters of an answer, environment and parameter
    values masked (``***``)."""
    text = body[: HEAD_CHARS * 16]
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text[:HEAD_CHARS]


#: What reading a damaged answer raises: pydantic's ``ValidationError`` (a ``ValueError``), and
#: the ``KeyError``, ``TypeError`` or ``AttributeError`` of code (or of a model's validator)
#: that indexes into a member of the wrong type. Catch it where an answer is read, and raise
#: :func:`damaged_answer`.
ANSWER_DAMAGE = (ValueError, KeyError, TypeError, AttributeError)


def validate_answer(model: type[M], raw: Any, operation: str) -> M:
    """``model.model_validate(raw)`` of (an item of) ``operation``'s answer.

    Raises:
        MalformedResponseError: The item is not what AWS sends (the pydantic error, or the
            error of a validator that met a member of the wrong type, is the ``__cause__``;
            it names fields, not values).
    """
    try:
        return model.model_validate(raw)
    except ANSWER_DAMAGE as exc:
        raise damaged_answer(operation, raw, f"a valid {model.__name__}", exc) from exc


def damaged_answer(operation: str, raw: Any, what: str, exc: Exception) -> MalformedResponseError:
    """The error for (a part of) ``operation``'s answer that could not be read as ``what``.

    Raise it ``from exc``: ``exc`` is what reading it raised (one of :data:`ANSWER_DAMAGE`).

    Args:
        operation: The AWS operation.
        raw: The answer, or the part of it that was read (its head, masked, is kept).
        what: What it should have been ("a valid JobQueue", "a CancelJobs error").
        exc: What reading it raised.
    """
    try:
        text = json.dumps(raw, default=str)
    except (TypeError, ValueError):
        text = type(raw).__name__
    count = exc.error_count() if isinstance(exc, ValidationError) else None
    why = type(exc).__name__ if count is None else f"{count} errors"
    return malformed(operation, f"not {what} ({why})", text)


# ---------------------------------------------------------------------------------------------
# The deep check of an answer botocore parses (``AnswerChecks.deep_problem``)

#: What to check of a value: ``(walker, argument, kind)``, where the walker is
#: :func:`_structure` (the argument: ``[(JSON name, plan), ...]``), :func:`_list` or
#: :func:`_map` (the plan of the items or values, or None), :func:`_scalar` (JSON types, for
#: timestamps and blobs) or :func:`_number` (``int`` or ``float``): what botocore converts.
#: ``None``: botocore reads any value of the shape.
_Plan = tuple[Any, ...]
_Failed = tuple[list[str], str] | None
#: The numbers botocore's rest-json parser converts (a value they refuse escapes it).
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "integer": int,
    "long": int,
    "float": float,
    "double": float,
}


def _plan(shape: Any, memo: dict[str, _Plan]) -> _Plan | None:
    """The check of ``shape``'s values (structures memoized by name: shapes may recurse)."""
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            return None
        known = memo.get(shape.name)
        if known is not None:
            return known
        members: list[tuple[str, _Plan]] = []
        plan = memo[shape.name] = (_structure, members, kind)
        for name, member in shape.members.items():
            child = _plan(member, memo)
            if child is not None:
                members.append((member.serialization.get("name", name), child))
        return plan
    if kind == "list":
        return (_list, _plan(shape.member, memo), kind)
    if kind == "map":
        return (_map, _plan(shape.value, memo), kind)
    if kind in ("timestamp", "blob"):
        return (_scalar, _TYPES[kind], kind)
    if kind in _CONVERT:  # rest-json: botocore calls int() / float() on the value
        return (_number, _CONVERT[kind], kind)
    return None


def _walk(plan: _Plan, value: Any) -> _Failed:
    """Where (the path, innermost first) and what is wrong with ``value``, or None."""
    failed: _Failed = plan[0](plan, value)
    return failed


def _wrong(plan: _Plan, value: Any) -> _Failed:
    return [], f"{_json_type(value)}, not a {plan[2]}"


def _structure(plan: _Plan, value: Any) -> _Failed:
    if not isinstance(value, dict):
        return _wrong(plan, value)
    for name, child in plan[1]:
        member = value.get(name)
        if member is not None:
            failed: _Failed = child[0](child, member)
            if failed is not None:
                failed[0].append(f".{name}")
                return failed
    return None


def _list(plan: _Plan, value: Any) -> _Failed:
    if not isinstance(value, list):
        return _wrong(plan, value)
    return _items(plan[1], enumerate(value), "[{}]")


def _map(plan: _Plan, value: Any) -> _Failed:
    if not isinstance(value, dict):
        return _wrong(plan, value)
    return _items(plan[1], value.items(), "[{!r}]")


def _items(child: _Plan | None, items: Iterable[tuple[Any, Any]], step: str) -> _Failed:
    """The first failure among a list's or a map's items, its path step formatted by ``step``."""
    if child is None:
        return None
    walk = child[0]
    for position, item in items:
        if item is not None:
            failed: _Failed = walk(child, item)
            if failed is not None:
                failed[0].append(step.format(position))
                return failed
    return None


def _scalar(plan: _Plan, value: Any) -> _Failed:
    if isinstance(value, plan[1]) and value.__class__ is not bool:
        return None
    return _wrong(plan, value)


def _number(plan: _Plan, value: Any) -> _Failed:
    if value.__class__ is int or value.__class__ is float:
        return None
    try:
        plan[1](value)
    except (TypeError, ValueError, OverflowError):
        return _wrong(plan, value)
    return None


_NOTHING: _Plan = (_structure, [], "structure")
