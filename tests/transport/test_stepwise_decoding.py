"""Large answers decoded in steps (``wire.decode_json_in_steps``): the same answer or error.

A DescribeJobs page of 100 jobs of 20 KB is 2 MB: decoded whole it held the event loop ~10 ms,
and the poller's concurrent calls decoded several such pages in one turn of the loop. The
figures are in ``benchmarks/bench_looplag.py``; these tests pin the behaviour.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aws_batch_async._transport import wire
from aws_batch_async._transport.wire import decode_json, decode_json_in_steps


def run(steps: Generator[None, None, dict[str, Any]]) -> tuple[dict[str, Any], int]:
    """The generator's answer, and how many steps it took."""
    count = 0
    while True:
        try:
            next(steps)
        except StopIteration as done:
            answer: dict[str, Any] = done.value
            return answer, count
        count += 1


def outcome(decode: Any) -> tuple[str, Any]:
    """``("ok", answer)`` or ``("error", type, message)`` of a decoding."""
    try:
        return "ok", decode()
    except Exception as exc:
        return "error", (type(exc), str(exc))


def page(jobs: int, *, nulls: bool = False, separators: tuple[str, str] = (", ", ": ")) -> bytes:
    """A DescribeJobs answer of ``jobs`` retried jobs (~3 KB each)."""
    items = [
        {
            "jobArn": f"arn:aws:batch:us-east-1:1:job/{n}",
            "jobName": f"job-{n}",
            "jobId": f"id-{n:05d}",
            "status": "SUCCEEDED",
            "attempts": [
                {
                    "container": {"exitCode": None if nulls else 1, "reason": "x" * 40},
                    "startedAt": a,
                    "statusReason": "Essential container in task exited",
                }
                for a in range(12)
            ],
            "container": {"command": ["sh", "-c", "echo >/dev/null"], "exitCode": 0},
            "parameters": {f"p{k}": "v" * 30 for k in range(8)},
        }
        for n in range(jobs)
    ]
    return json.dumps({"jobs": items, "nextToken": None}, separators=separators).encode()


@pytest.fixture
def small_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Groups of a few hundred characters and steps of no time: every path taken often."""
    monkeypatch.setattr(wire, "_GROUP_CHARS", 300)
    monkeypatch.setattr(wire, "STEP_SECONDS", 0.0)


@pytest.mark.usefixtures("small_groups")
@pytest.mark.parametrize("nulls", [False, True], ids=["no nulls", "nulls"])
@pytest.mark.parametrize("separators", [(", ", ": "), (",", ":"), (" ,\n ", " :\t")])
def test_a_large_answer_decodes_in_many_steps_to_the_same_answer(
    nulls: bool, separators: tuple[str, str]
) -> None:
    body = page(200, nulls=nulls, separators=separators)
    answer, steps = run(decode_json_in_steps(body))
    assert answer == decode_json(body)
    assert steps >= 50  # one item or group per step here
    assert "nextToken" not in answer  # null members are left out, as decode_json does
    if nulls:
        assert "exitCode" not in answer["jobs"][0]["attempts"][0]["container"]


def test_steps_last_about_step_seconds() -> None:
    body = page(300)
    _, whole = run(decode_json_in_steps(body, step=3600.0))
    _, many = run(decode_json_in_steps(body, step=0.0))
    assert whole == 0
    assert many >= 10


@pytest.mark.usefixtures("small_groups")
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{}",
        b" { }\n",
        b'{"jobs": []}',
        b'{"jobs": [ ]  , "a": {"b": null}}',
        b'{"a": 1, "a": [2]}',
        b'{"jobs": [1, "x", null, [], {"a": null}]}',
        b'{"jobs": [{"a": 1}, {"a": 2}], "k": "\\u00fc\\ud83d\\ude00"}',
        b'{"jobs": [{"k:ey": 1}, {"k:ey": 2}, {"k:ey": 3}]}',
        b'{"x": NaN, "y": -Infinity}',
        '{"jobs": [{"n": "\u00fc\u2713"}]}'.encode("utf-16"),
        # damaged or not an object: the same error as decode_json
        b"[]",
        b"null",
        b'"text"',
        b"<html><body>502 Bad Gateway</body></html>",
        b'{"jobs": [{"jobId": "a", "status": "RUN',
        b'{"jobs": [{"a": 1},]}',
        b'{"jobs": [{"a": 1}}',
        b'{"a" 1}',
        b"{1: 2}",
        b'{"a": 1} trailing',
        b'{"a": 1,}',
        b"\xff\xfe\xfd",
    ],
)
def test_small_and_damaged_bodies_give_decode_jsons_answer_or_error(body: bytes) -> None:
    assert outcome(lambda: run(decode_json_in_steps(body))[0]) == outcome(lambda: decode_json(body))


@pytest.mark.usefixtures("small_groups")
@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # cut short mid-way
        lambda b: b[:-2],  # cut short at the very end
        lambda b: b.replace(b'"jobName"', b'"jobName" "', 1),  # broken deep in an item
        lambda b: b.replace(b"}, {", b"}; {", 1),  # broken between two items
        lambda b: b.replace(b"}, {", b"}}, {", 1),  # an item closed twice
        lambda b: b + b"]",  # trailing garbage
    ],
)
def test_a_damaged_large_answer_raises_decode_jsons_error(damage: Any) -> None:
    body = damage(page(100))
    got, expected = (
        outcome(lambda: run(decode_json_in_steps(body))[0]),
        outcome(lambda: decode_json(body)),
    )
    assert got == expected
    assert expected[0] == "error"


#: Keys and strings that look like the separators the decoder looks for.
WORDS = st.sampled_from(["", "a", "jobId", "}, {", '"x":', "[1,", "\\", "\u00fc"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | WORDS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(WORDS, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=80, deadline=None)
@given(
    members=st.dictionaries(WORDS, st.lists(JSON_VALUES, max_size=8) | JSON_VALUES, max_size=3),
    indent=st.sampled_from([None, 0, 2]),
    group=st.integers(min_value=1, max_value=64),
)
def test_any_json_object_decodes_in_steps_as_decode_json_decodes_it(
    members: dict[str, Any], indent: int | None, group: int
) -> None:
    saved = wire._GROUP_CHARS
    wire._GROUP_CHARS = group
    try:
        body = json.dumps(members, indent=indent).encode()
        assert run(decode_json_in_steps(body, step=0.0))[0] == decode_json(body)
    finally:
        wire._GROUP_CHARS = saved


def test_the_collector_is_paused_while_decoding_and_restored_after() -> None:
    body = page(100)
    assert gc.isenabled()
    steps = decode_json_in_steps(body, step=0.0)
    next(steps)
    assert not gc.isenabled()  # between steps too (one collection per answer, as before)
    run(steps)
    assert gc.isenabled()

    steps = decode_json_in_steps(body, step=0.0)
    next(steps)
    steps.close()  # abandoned mid-way (a cancelled call)
    assert gc.isenabled()

    with pytest.raises(json.JSONDecodeError):
        run(decode_json_in_steps(body[:-2], step=0.0))
    assert gc.isenabled()

    gc.disable()
    try:
        run(decode_json_in_steps(body, step=0.0))
        assert not gc.isenabled()  # switched off by the caller: left off
    finally:
        gc.enable()
