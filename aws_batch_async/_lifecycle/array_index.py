"""``array_index()``: the index a job of an array should work on, for the job's own code.

This module is imported inside running jobs, so it uses the standard library only: importing
it (``from aws_batch_async import array_index``) loads neither aiobotocore nor pydantic.

AWS gives each child of an array job ``AWS_BATCH_JOB_ARRAY_INDEX`` (0 .. size-1). A rerun of
some indices only (``BatchService.rerun_failed``) is a new array whose children are numbered
from 0 again, so the library also sets :data:`INDEX_MAP_ENV`: the original indices, range
encoded (``"3,7"``, ``"0-99,250"``), in the new children's order. The name is outside AWS's
reserved ``AWS_BATCH`` prefix.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

__all__ = ["INDEX_MAP_ENV", "array_index", "decode_indices", "encode_indices"]

#: The environment variable that maps a rerun's child index to the original index.
INDEX_MAP_ENV = "BATCH_ASYNC_ARRAY_INDICES"
#: AWS's variable: this child's index in its array.
AWS_INDEX_ENV = "AWS_BATCH_JOB_ARRAY_INDEX"


def array_index(environ: Mapping[str, str] | None = None) -> int | None:
    """The array index this job works on, for code running inside an AWS Batch job.

    In a child of an ordinary array job it is ``AWS_BATCH_JOB_ARRAY_INDEX``. In a job made by
    ``rerun_failed`` it is the **original** index of the child being rerun (also when only one
    index was rerun, as a single job). No AWS call is made.

    Args:
        environ: The environment to read; ``os.environ`` if omitted.

    Returns:
        The index, or ``None`` in a job that is neither an array child nor a rerun of one.

    Raises:
        ValueError: The variables are malformed, or the index is outside the rerun's map.
    """
    env = os.environ if environ is None else environ
    own = env.get(AWS_INDEX_ENV)
    mapping = env.get(INDEX_MAP_ENV)
    position = _non_negative(own, AWS_INDEX_ENV) if own is not None else None
    if mapping is None:
        return position
    originals = decode_indices(mapping)
    at = 0 if position is None else position
    if at >= len(originals):
        raise ValueError(f"{AWS_INDEX_ENV}={at} is outside {INDEX_MAP_ENV} ({len(originals)})")
    return originals[at]


def encode_indices(indices: Iterable[int]) -> str:
    """Range-encode indices in their order: ``[0, 1, 2, 5, 7, 8]`` -> ``"0-2,5,7-8"``."""
    parts: list[str] = []
    start = end = -2
    for index in indices:
        if index == end + 1 and start >= 0:
            end = index
            continue
        if start >= 0:
            parts.append(_range(start, end))
        start = end = index
    if start >= 0:
        parts.append(_range(start, end))
    return ",".join(parts)


def decode_indices(text: str) -> list[int]:
    """The indices of :func:`encode_indices`' text, in order.

    Raises:
        ValueError: Not a comma-separated list of ``N`` and ``N-M`` (``N <= M``) items.
    """
    indices: list[int] = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        low = _non_negative(first, INDEX_MAP_ENV)
        high = _non_negative(last, INDEX_MAP_ENV) if dash else low
        if high < low:
            raise ValueError(f"{INDEX_MAP_ENV}: a range ends before it starts")
        indices.extend(range(low, high + 1))
    return indices


def _range(start: int, end: int) -> str:
    return str(start) if start == end else f"{start}-{end}"


def _non_negative(text: str, name: str) -> int:
    text = text.strip()
    if not text.isdigit():
        raise ValueError(f"{name} is not a list of non-negative integers")
    return int(text)
