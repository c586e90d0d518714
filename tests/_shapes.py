"""A generator of answers botocore's model allows, driven by its shapes (shared by the tests).

:class:`ShapeSampler` builds random values of any botocore shape from a fixed seed: every
optional member present or absent, every enum value, empty and full lists, unknown extra
members, extreme numbers. ``tests/models/test_job_parts.py`` feeds DescribeJobs and ListJobs answers
through it, ``tests/models/test_views.py`` the infrastructure answers (queues, compute environments,
job definitions).
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StringShape, StructureShape

SEED = 20240917
SECRET = "s3cr3t"  # every environment value the generator writes contains it; nothing else does
#: The shapes of environment variables: their ``value`` is a secret.
SECRET_SHAPES = ("KeyValuePair", "EksContainerEnvironmentVariable")

SERVICE = botocore.session.get_session().get_service_model("batch")


def output_member(operation: str, member: str) -> Shape:
    """The shape of one item of an operation's output list (``jobs``, ``jobSummaryList``)."""
    output = SERVICE.operation_model(operation).output_shape
    assert isinstance(output, StructureShape)
    items = output.members[member]
    assert isinstance(items, ListShape)
    return items.member


class ShapeSampler:
    """Random values of botocore shapes, as botocore's JSON parser would hand them over.

    Each structure picks how full it is (nothing optional, everything, or in between); nested
    ``required`` members are sometimes left out too (AWS's model says ``startedAt`` is required
    in a JobDetail, and AWS omits it for jobs that have not started). Environment values are
    unique strings containing :data:`SECRET`.
    """

    INTS = (0, 1, -1, 2, 7, 137, 255, 2**31 - 1, -(2**31))
    LONGS = (0, -1, 1, 1_700_000_000_000, 1_700_000_000_123, 2**63 - 1, -(2**63), 253402300800000)
    WORDS = ("", "x", "main", "app", "sidecar", "/aws/batch/job", "ïñtérnätïønål", "a" * 300)

    def __init__(self, seed: int, *, nested_required: float = 0.9) -> None:
        self.random = random.Random(seed)
        self.secrets = 0
        self.nested_required = nested_required  # how often a nested required member is kept
        self.enums: dict[str, set[str]] = {}  # the values written of each enum shape

    def structure(self, shape: StructureShape, *, top: bool = False) -> dict[str, Any]:
        fullness = self.random.choice((0.0, 0.25, 0.5, 0.75, 1.0))
        required = set(shape.required_members)
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            keep = (
                (top or self.random.random() < self.nested_required)
                if name in required
                else self.random.random() < fullness
            )
            if keep:
                out[name] = self.value(member, name)
        if self.random.random() < 0.2:  # members AWS may add one day
            for _ in range(self.random.randint(1, 3)):
                out[f"future{self.random.randint(0, 999)}Member"] = self.json_value(2)
        if shape.name in SECRET_SHAPES and "value" in out:
            self.secrets += 1
            out["value"] = f"{SECRET}-{self.secrets}-{self.word()}"
        return out

    def value(self, shape: Shape, name: str = "") -> Any:
        kind = shape.type_name
        if isinstance(shape, StructureShape):
            return self.structure(shape)
        if isinstance(shape, ListShape):
            return [self.value(shape.member) for _ in range(self.length())]
        if isinstance(shape, MapShape):
            return {self.word() or "k": self.value(shape.value) for _ in range(self.length())}
        if isinstance(shape, StringShape) and shape.enum:
            value = self.random.choice(shape.enum)
            self.enums.setdefault(shape.name, set()).add(value)
            return value
        if kind == "string":
            return self.word()
        if kind == "integer":
            return self.number(self.INTS, 2**31)
        if kind == "long":
            return self.number(self.LONGS, 2**63)
        if kind == "boolean":
            return self.random.random() < 0.5
        if kind in ("double", "float"):
            return self.random.choice((0.0, 0.5, -1.25, 1e300, 3.0))
        if kind == "timestamp":
            return datetime.fromtimestamp(self.random.randint(0, 2**32), tz=timezone.utc)
        if kind == "blob":
            return bytes(self.random.randrange(256) for _ in range(self.length()))
        raise AssertionError(f"no sampler for {kind} ({name})")

    def length(self) -> int:
        return self.random.choice((0, 0, 1, 1, 2, 3))

    def number(self, edges: tuple[int, ...], bound: int) -> int:
        if self.random.random() < 0.6:
            return self.random.choice(edges)
        return self.random.randrange(-bound, bound)

    def word(self) -> str:
        if self.random.random() < 0.5:
            return self.random.choice(self.WORDS)
        letters = string.ascii_letters + string.digits + "-_/:#. "
        return "".join(self.random.choice(letters) for _ in range(self.random.randint(1, 20)))

    def json_value(self, depth: int) -> Any:
        pick = self.random.randrange(6 if depth else 4)
        if pick == 0:
            return None
        if pick == 1:
            return self.random.randint(-5, 5)
        if pick == 2:
            return self.word()
        if pick == 3:
            return self.random.random() < 0.5
        if pick == 4:
            return [self.json_value(depth - 1) for _ in range(self.length())]
        return {self.word(): self.json_value(depth - 1) for _ in range(self.length())}


def samples(
    shape: Shape, count: int, seed: int, sampler: ShapeSampler | None = None
) -> Iterator[dict[str, Any]]:
    """``count`` answers of ``shape`` (a structure), from ``seed`` or the given sampler."""
    sampler = sampler if sampler is not None else ShapeSampler(seed)
    assert isinstance(shape, StructureShape)
    for _ in range(count):
        yield sampler.structure(shape, top=True)
