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
or status-code members).
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Callable
from typing import Any

__all__ = ["Check", "compile_check", "decode_json", "json_native_input", "json_native_output"]

Check = Callable[[Any], bool]

#: Answers at least this large are decoded with the garbage collector paused (see decode_json).
_PAUSE_GC_FROM = 16 * 1024
_SCALARS = frozenset({"string", "integer", "long", "boolean", "double", "float"})
_CONTAINERS = frozenset({"structure", "list", "map"})
_JSON_SPACE = b" \t\r\n"
_BEFORE_VALUE = b":,["


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
    low = shape.metadata.get("min")
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
    if kind in ("double", "float"):
        return lambda v: (
            (isinstance(v, int) or (isinstance(v, float) and math.isfinite(v)))
            and (low is None or v >= low)
        )
    if kind == "list":
        member = _compile(shape.member, done)
        least = low or 0

        def check_list(v: Any) -> bool:
            if not isinstance(v, list | tuple) or len(v) < least:
                return False
            return all(member(x) for x in v)

        return check_list
    if kind == "map":  # botocore checks no length of a map
        key, value = _compile(shape.key, done), _compile(shape.value, done)

        def check_map(v: Any) -> bool:
            if not isinstance(v, dict):
                return False
            return all(key(k) and value(x) for k, x in v.items())

        return check_map
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
