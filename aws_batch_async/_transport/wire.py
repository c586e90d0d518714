"""The fast path's wire format: which operations it can serialise, a quick check, JSON in and out.

For a rest-json operation whose input is all JSON-native (strings, integers, booleans, lists,
maps and structures, nothing in the URI, query string or headers, no renamed members),
botocore's serialiser writes ``json.dumps`` of the parameters in the caller's order. The fast
path writes exactly that, after :func:`compile_check` accepted the parameters: a check built
once per shape that accepts **only** what botocore's ``ParamValidator`` accepts and what
``json.dumps`` writes as botocore would. Anything it does not accept (a wrong type, a missing
member, a float that is not finite...) is sent by botocore itself, which then raises its own
``ParamValidationError`` or serialises the odd value its own way.

Answers of the operations whose JSON the library validates itself (``SubmitJob``,
``DescribeJobs``, ``ListJobs``) are decoded with :func:`decode_json` instead of botocore's
parser, when the output shape holds nothing botocore would convert (timestamps, blobs, header
or status-code members). A large answer (a DescribeJobs page of 100 jobs of 20 KB is 2 MB, some
10 ms of decoding) is decoded by :func:`decode_json_in_steps`, a few milliseconds at a time, so
that the caller can give the event loop a turn in between.
"""

from __future__ import annotations

import gc
import json
import math
import re
import time
from collections.abc import Callable, Generator
from typing import Any

__all__ = [
    "Check",
    "compile_check",
    "decode_json",
    "decode_json_in_steps",
    "json_native_input",
    "json_native_output",
]

Check = Callable[[Any], bool]

#: Answers at least this large are decoded with the garbage collector paused (see decode_json).
_PAUSE_GC_FROM = 16 * 1024
_SCALARS = frozenset({"string", "integer", "long", "boolean", "double", "float"})
_CONTAINERS = frozenset({"structure", "list", "map"})
_JSON_SPACE = b" \t\r\n"
_BEFORE_VALUE = b":,["
#: How long one step of :func:`decode_json_in_steps` decodes, at least (seconds of CPU).
STEP_SECONDS = 0.002
_SPACE = re.compile(r"[ \t\n\r]*")
#: About how many characters of a list decode_json_in_steps decodes in one call (~1 ms).
_GROUP_CHARS = 256 * 1024
#: The longest first member name (with its quotes and ``{``) that marks where an item begins.
_HEAD_CHARS = 128


def json_native_input(operation_model: Any) -> str | None:
    """Why the operation's request cannot be written as ``json.dumps(params)``; None if it can.

    Args:
        operation_model: botocore's ``OperationModel``.

    Returns:
        The reason, or ``None`` when the fast path may serialise it.
    """
    model = operation_model.service_model
    if model.protocol != "rest-json" and model.metadata.get("protocol") != "rest-json":
        return f"protocol {model.metadata.get('protocol')!r}"
    http = operation_model.http
    if "{" in http.get("requestUri", "/") or "?" in http.get("requestUri", "/"):
        return "the request URI has parameters"
    if operation_model.has_streaming_input or operation_model.has_event_stream_input:
        return "streaming input"
    if operation_model.endpoint or getattr(operation_model, "http_checksum", None):
        return "a host prefix or checksum trait"
    if getattr(operation_model, "request_compression", None):
        return "request compression"
    for name in ("context_parameters", "static_context_parameters", "operation_context_parameters"):
        if getattr(operation_model, name, None):
            return "endpoint context parameters"
    shape = operation_model.input_shape
    if shape is None:
        return "no input shape"
    return _native(shape, top=True, seen=set())


def json_native_output(operation_model: Any) -> bool:
    """True when botocore's parser would return the answer's JSON unchanged (but nulls).

    The output tree of DescribeJobs has some 400 shapes: they are read from the service
    model's JSON (a tenth of the cost of botocore's shape objects, on a client's first call),
    or from the shape objects where that JSON is not at hand.
    """
    output = operation_model.output_shape
    if output is None:
        return True
    shapes = getattr(operation_model.service_model, "_service_description", {}).get("shapes")
    if isinstance(shapes, dict) and output.name in shapes:
        return _native_json(shapes, output.name, set())
    return _native(output, top=True, seen=set(), output=True) is None


def _native_json(shapes: dict[str, Any], name: str, seen: set[str]) -> bool:
    if name in seen:
        return True
    seen.add(name)
    shape = shapes[name]
    kind = shape.get("type")
    if kind in _SCALARS:
        return not shape.get("jsonvalue")
    if kind == "list":
        return _native_json(shapes, shape["member"]["shape"], seen)
    if kind == "map":
        return _native_json(shapes, shape["key"]["shape"], seen) and _native_json(
            shapes, shape["value"]["shape"], seen
        )
    if kind != "structure" or shape.get("document") or shape.get("union"):
        return False
    for member_name, member in shape.get("members", {}).items():
        if member.get("location") or member.get("locationName", member_name) != member_name:
            return False
        if member.get("jsonvalue") or not _native_json(shapes, member["shape"], seen):
            return False
    return True


def _native(shape: Any, *, top: bool, seen: set[str], output: bool = False) -> str | None:
    if shape.name in seen:
        return None
    seen.add(shape.name)
    kind = shape.type_name
    if kind in _SCALARS:
        if shape.serialization.get("jsonvalue"):
            return f"{shape.name} is a JSON value"
        return None
    if kind not in _CONTAINERS:
        return f"{shape.name} is a {kind}"
    if kind == "structure":
        if getattr(shape, "is_document_type", False) or shape.metadata.get("union"):
            return f"{shape.name} is a document or union"
        for name, member in shape.members.items():
            ser = member.serialization
            if ser.get("location") or ser.get("name", name) != name or ser.get("hostLabel"):
                return f"{shape.name}.{name} is not a plain body member"
            if top and (ser.get("eventpayload") or ser.get("payload")):
                return f"{shape.name}.{name} is a payload"
            why = _native(member, top=False, seen=seen, output=output)
            if why:
                return why
        return None
    if kind == "list":
        return _native(shape.member, top=False, seen=seen, output=output)
    key = _native(shape.key, top=False, seen=seen, output=output)
    return key or _native(shape.value, top=False, seen=seen, output=output)


def compile_check(shape: Any) -> Check:
    """A check that accepts only parameters botocore validates and serialises as ``json.dumps``.

    botocore's ``ParamValidator`` checks types, required members, unknown members and the
    ``min`` of strings, lists and numbers (not of maps, not ``max``, nor enums): so does the
    check.

    Args:
        shape: A JSON-native input shape (see :func:`json_native_input`).

    Returns:
        ``check(value) -> bool``.
    """
    return _compile(shape, {})


def _compile(shape: Any, done: dict[str, Check]) -> Check:
    existing = done.get(shape.name)
    if existing is not None:
        return existing
    cell: list[Check] = []

    def deferred(value: Any) -> bool:  # recursive shapes
        return cell[0](value)

    done[shape.name] = deferred
    check = _build(shape, done)
    cell.append(check)
    done[shape.name] = check
    return check


def _build(shape: Any, done: dict[str, Check]) -> Check:
    kind = shape.type_name
    if kind == "list":
        return _build_list(shape, done)
    if kind == "map":
        return _build_map(shape, done)
    if kind in _SCALARS:
        return _build_scalar(kind, shape.metadata.get("min"))
    return _build_structure(shape, done)


def _build_scalar(kind: str, low: Any) -> Check:
    if kind == "string":
        if low:
            return lambda v: isinstance(v, str) and len(v) >= low
        return lambda v: isinstance(v, str)
    if kind in ("integer", "long"):
        if low is not None:
            return lambda v: isinstance(v, int) and v >= low
        return lambda v: isinstance(v, int)
    if kind == "boolean":
        return lambda v: isinstance(v, bool)
    # double, float
    return lambda v: (
        (isinstance(v, int) or (isinstance(v, float) and math.isfinite(v)))
        and (low is None or v >= low)
    )


def _build_list(shape: Any, done: dict[str, Check]) -> Check:
    member = _compile(shape.member, done)
    least = shape.metadata.get("min") or 0

    def check_list(v: Any) -> bool:
        if not isinstance(v, list | tuple) or len(v) < least:
            return False
        return all(member(x) for x in v)

    return check_list


def _build_map(shape: Any, done: dict[str, Check]) -> Check:
    key, value = _compile(shape.key, done), _compile(shape.value, done)  # no length checked

    def check_map(v: Any) -> bool:
        if not isinstance(v, dict):
            return False
        return all(key(k) and value(x) for k, x in v.items())

    return check_map


def _build_structure(shape: Any, done: dict[str, Check]) -> Check:
    members = {name: _compile(m, done) for name, m in shape.members.items()}
    required = tuple(shape.required_members)

    def check_structure(v: Any) -> bool:
        if not isinstance(v, dict):
            return False
        for name in required:
            if name not in v:
                return False
        for name, x in v.items():
            member_check = members.get(name)
            if member_check is None or not member_check(x):
                return False
        return True

    return check_structure


def encode_json(params: dict[str, Any]) -> bytes:
    """The request body botocore's rest-json serialiser writes for checked parameters."""
    return json.dumps(params).encode("utf-8")


def decode_json(body: bytes) -> dict[str, Any]:
    """An answer's JSON as botocore's parser returns it: members that are null are left out.

    A page of 100 jobs is some 3,000 dicts and lists: decoding it triggers several garbage
    collections, each traversing the young objects again (and, now and then, every object of
    the process), which made decoding 4-5x slower in a process holding a client. The
    collector is paused while a large answer is decoded (the msgpack documentation's advice
    for large messages), unless it was off already; it runs as usual afterwards.

    Null members are dropped by an ``object_hook`` as the JSON is decoded (a page of 100 jobs
    with nulls: 1.6x a plain decode, against 2.8x for the rebuild it replaced), and only when
    the body holds a JSON ``null`` value: the text "null" inside a string (a command writing to
    ``/dev/null``) costs nothing (it cost 2.8x).

    Raises:
        ValueError: The body is not JSON (``json.JSONDecodeError``, ``UnicodeDecodeError``),
            or not a JSON object.
    """
    if not body:
        return {}
    hook = _drop_nulls if _has_null_value(body) else None
    if len(body) >= _PAUSE_GC_FROM and gc.isenabled():
        gc.disable()
        try:
            parsed: Any = json.loads(body, object_hook=hook)
        finally:
            gc.enable()
    else:
        parsed = json.loads(body, object_hook=hook)
    if not isinstance(parsed, dict):
        raise ValueError(f"a JSON {type(parsed).__name__}, not an object")
    result: dict[str, Any] = parsed
    return result


def _has_null_value(body: bytes) -> bool:
    """True when ``body`` may hold a JSON null: "null" after ``:``, ``,`` or ``[``.

    Never false for a null value; true for such text inside a string too (harmless).
    """
    at = body.find(b"null")
    while at >= 0:
        i = at - 1
        while i >= 0 and body[i] in _JSON_SPACE:
            i -= 1
        if i >= 0 and body[i] in _BEFORE_VALUE:
            return True
        at = body.find(b"null", at + 4)
    return False


def _drop_nulls(value: dict[str, Any]) -> dict[str, Any]:
    if None in value.values():
        return {k: v for k, v in value.items() if v is not None}
    return value


class _NotPlain(Exception):
    """The body is not a plain JSON object (damaged, or not an object): decode it whole."""


def decode_json_in_steps(
    body: bytes, step: float | None = None
) -> Generator[None, None, dict[str, Any]]:
    """:func:`decode_json` in steps: a generator that decodes for about ``step`` seconds at
    each ``next`` and returns (``StopIteration.value``) what ``decode_json(body)`` returns.

    The top-level object is decoded member by member, and a member that is a list item by
    item (``json.JSONDecoder.raw_decode``: the same C scanner as ``json.loads``), so a step
    ends between two items of a list (a job of a DescribeJobs page). The collector is paused
    from the first step until the generator ends or is closed (unless it was off already), as
    :func:`decode_json` pauses it for a large answer: paused per step, it ran a collection
    after each, and its full collections came a third more often (8 against 6 at 3,000 jobs of
    20 KB, +0.6 s of CPU). A body that is not a JSON object, or damaged, is handed to
    :func:`decode_json` at the step where that shows: the same answer, or the same error.

    Args:
        body: The answer's body.
        step: Seconds of decoding per step (default :data:`STEP_SECONDS`).

    Returns:
        A generator; its return value is the decoded answer, nulls left out.

    Raises:
        ValueError: What :func:`decode_json` raises for ``body`` (as the generator runs).
    """
    if not body:
        return {}
    try:
        text = body.decode(json.detect_encoding(body), "surrogatepass")
    except UnicodeDecodeError:
        return decode_json(body)
    hook = _drop_nulls if _has_null_value(body) else None
    steps = _object_in_steps(text, hook, _Budget(STEP_SECONDS if step is None else step))
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        while True:
            try:
                next(steps)
            except StopIteration as done:
                result: dict[str, Any] = done.value
                return result
            except (_NotPlain, ValueError):
                return decode_json(body)
            yield
    finally:
        if paused:
            gc.enable()


class _Budget:
    """When a step of decoding is over."""

    __slots__ = ("deadline", "step")

    def __init__(self, step: float) -> None:
        self.step = step
        self.deadline = time.perf_counter() + step

    def over(self) -> bool:
        return time.perf_counter() >= self.deadline

    def restart(self) -> None:
        self.deadline = time.perf_counter() + self.step


def _object_in_steps(
    text: str, hook: Callable[[dict[str, Any]], dict[str, Any]] | None, budget: _Budget
) -> Generator[None, None, dict[str, Any]]:
    """The top-level object of ``text``, member by member (see decode_json_in_steps).

    Raises:
        _NotPlain: ``text`` is not one JSON object.
        ValueError: A member is not JSON (``json.JSONDecodeError``).
    """
    decode = json.JSONDecoder(object_hook=hook).raw_decode
    at = _expect(text, _skip(text, 0), "{")
    result: dict[str, Any] = {}
    if text.startswith("}", _skip(text, at)):
        at = _skip(text, at) + 1
    else:
        while True:
            at = _skip(text, at)
            if not text.startswith('"', at):
                raise _NotPlain
            key, at = decode(text, at)
            at = _skip(text, _expect(text, _skip(text, at), ":"))
            if text.startswith("[", at):
                value, at = yield from _list_in_steps(text, at + 1, decode, budget)
            else:
                value, at = decode(text, at)
            result[key] = value
            if budget.over():
                yield
                budget.restart()
            at = _skip(text, at)
            if text.startswith("}", at):
                at += 1
                break
            at = _expect(text, at, ",")
    if _skip(text, at) != len(text):
        raise _NotPlain
    return hook(result) if hook is not None else result


def _list_in_steps(
    text: str, at: int, decode: Callable[[str, int], tuple[Any, int]], budget: _Budget
) -> Generator[None, None, tuple[list[Any], int]]:
    """The list whose items start at ``at`` (after its ``[``), a few items at a time (see
    :func:`_group`); and where it ends."""
    items: list[Any] = []
    at = _skip(text, at)
    if text.startswith("]", at):
        return items, at + 1
    mark: tuple[str, str] | None = None  # between two items: the separator, the next's head
    while True:
        at = _skip(text, at)
        grouped = _group(text, at, mark, decode) if mark is not None and mark[1] else None
        if grouped is not None:
            group, at = grouped
            items.extend(group)
        else:
            item, end = decode(text, at)
            items.append(item)
            after = _skip(text, end)
            if text.startswith("]", after):
                return items, after + 1
            following = _skip(text, _expect(text, after, ","))
            mark = _mark(text, at, end, following) if mark is None else ("", "")
            at = following
        if budget.over():
            yield
            budget.restart()


def _mark(text: str, start: int, end: int, following: int) -> tuple[str, str]:
    """What separates the item ``text[start:end]`` from the next item (at ``following``),
    and how an item of the list begins (``{"jobArn":``); ``("", "")`` if not an object."""
    colon = text.find(":", start, min(end, start + _HEAD_CHARS))
    if not text.startswith("{", start) or colon < 0:
        return "", ""
    return text[end:following], text[start : colon + 1]


def _group(
    text: str, at: int, mark: tuple[str, str], decode: Callable[[str, int], tuple[Any, int]]
) -> tuple[list[Any], int] | None:
    """The items from ``at`` to about :data:`_GROUP_CHARS` on, decoded in one call; and
    where the next item starts. None when no such group is found (near the list's end).

    Decoded item by item, each item's member names are new strings (the decoder shares them
    within one call only): 20 KB jobs decoded so took 1.6x the time and memory of one
    ``json.loads``. A group ends before the next occurrence of ``mark`` (the separator and
    the first member of an item) past :data:`_GROUP_CHARS`; decoded as a JSON list, the group
    succeeds only if it ends exactly there, on an item of this list (any other cut leaves a
    bracket or a string open): anything else is refused, and the items are decoded one by one.
    """
    separator, head = mark
    cut = text.find(separator + head, at + _GROUP_CHARS)
    if cut < 0:
        return None
    chunk = "[" + text[at:cut] + "]"
    try:
        group, end = decode(chunk, 0)
    except ValueError:
        return None
    if end != len(chunk):
        return None
    return group, cut + len(separator)


def _skip(text: str, at: int) -> int:
    """The position of the first character from ``at`` on that is not JSON white space."""
    found = _SPACE.match(text, at)
    return found.end() if found is not None else at


def _expect(text: str, at: int, char: str) -> int:
    """The position after ``char``, which must be at ``at``."""
    if not text.startswith(char, at):
        raise _NotPlain
    return at + 1
