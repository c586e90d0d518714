"""Fargate's task sizes: the vCPU values it offers and the memory sizes each allows.

Pinned from botocore's model of AWS Batch (the documentation of ``ResourceRequirement.value``,
which lists them by vCPU and by memory); ``tests/models/test_aws_model.py`` parses both lists from
the
installed botocore and fails when they differ from this table, so a botocore release that
documents a new size is seen on purpose (``docs/aws-model.md``). The submit path checks a
Fargate job's vCPUs and memory against it, and ``explain`` reads its largest size.
"""

from __future__ import annotations

__all__ = ["FARGATE_MAX_MEMORY_MIB", "FARGATE_MAX_VCPUS", "FARGATE_MEMORY"]

_GIB = 1024

#: Fargate's vCPU values and the memory sizes (MiB) each allows.
FARGATE_MEMORY: dict[float, frozenset[int]] = {
    0.25: frozenset({512, 1024, 2048}),
    0.5: frozenset(range(1 * _GIB, 4 * _GIB + 1, _GIB)),
    1.0: frozenset(range(2 * _GIB, 8 * _GIB + 1, _GIB)),
    2.0: frozenset(range(4 * _GIB, 16 * _GIB + 1, _GIB)),
    4.0: frozenset(range(8 * _GIB, 30 * _GIB + 1, _GIB)),
    8.0: frozenset(range(16 * _GIB, 60 * _GIB + 1, 4 * _GIB)),
    16.0: frozenset(range(32 * _GIB, 120 * _GIB + 1, 8 * _GIB)),
    32.0: frozenset({60 * _GIB, 120 * _GIB, 244 * _GIB}),
}

#: The largest Fargate task: 32 vCPUs.
FARGATE_MAX_VCPUS = max(FARGATE_MEMORY)
#: The most memory a Fargate task has: 244 GiB (249,856 MiB, with 32 vCPUs).
FARGATE_MAX_MEMORY_MIB = max(max(sizes) for sizes in FARGATE_MEMORY.values())
