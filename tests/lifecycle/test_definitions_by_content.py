"""Job definitions by content: ``ensure_job_definition`` and ``prune_job_definitions`` (moto)."""

from __future__ import annotations

import asyncio

import pytest

from aws_batch_async import BatchService
from aws_batch_async._lifecycle.definitions_by_content import CONTENT_HASH_TAG, content_hash
from aws_batch_async.testing import BatchProxy

DEFINITION = {
    "jobDefinitionName": "by-content",
    "type": "container",
    "containerProperties": {
        "image": "busybox",
        "command": ["echo", "hi"],
        "resourceRequirements": [
            {"type": "VCPU", "value": "1"},
            {"type": "MEMORY", "value": "512"},
        ],
    },
}


async def test_the_same_content_twice_registers_once(
    batch: BatchService, proxy: BatchProxy
) -> None:
    first = await batch.ensure_job_definition(DEFINITION)
    async with BatchService(batch.config) as other:  # another process: no memory of the first
        second = await other.ensure_job_definition(DEFINITION)
    assert second.arn == first.arn
    assert second.revision == first.revision
    assert proxy.count("RegisterJobDefinition") == 1
    assert first.tags[CONTENT_HASH_TAG] == content_hash(DEFINITION)


async def test_changed_content_registers_a_new_revision(
    batch: BatchService, proxy: BatchProxy
) -> None:
    first = await batch.ensure_job_definition(DEFINITION)
    props = {**DEFINITION["containerProperties"], "image": "busybox:2"}  # type: ignore[dict-item]
    changed = {**DEFINITION, "containerProperties": props}
    second = await batch.ensure_job_definition(changed)
    assert second.revision == first.revision + 1
    back = await batch.ensure_job_definition(DEFINITION)  # the latest differs: a third
    assert back.revision == second.revision + 1
    assert proxy.count("RegisterJobDefinition") == 3
    latest = await batch.latest_job_definition("by-content")
    assert latest is not None
    assert latest.revision == back.revision


async def test_a_revision_registered_by_hand_is_not_taken_for_ours(
    batch: BatchService, proxy: BatchProxy
) -> None:
    await batch.register_job_definition(DEFINITION)  # same content, no hash tag
    ensured = await batch.ensure_job_definition(DEFINITION)
    assert ensured.revision == 2
    assert proxy.count("RegisterJobDefinition") == 2


async def test_concurrent_calls_register_once(batch: BatchService, proxy: BatchProxy) -> None:
    results = await asyncio.gather(*(batch.ensure_job_definition(DEFINITION) for _ in range(8)))
    assert len({r.arn for r in results}) == 1
    assert proxy.count("RegisterJobDefinition") == 1


async def test_typed_fields_are_ensured_too(batch: BatchService, proxy: BatchProxy) -> None:
    a = await batch.ensure_job_definition(name="typed", image="busybox", vcpus=1, memory_mib=256)
    b = await batch.ensure_job_definition(name="typed", image="busybox", vcpus=1, memory_mib=256)
    assert a.arn == b.arn
    assert proxy.count("RegisterJobDefinition") == 1
    with pytest.raises(TypeError):
        await batch.ensure_job_definition(DEFINITION, name="x")


def test_the_hash_ignores_key_order_and_our_own_tags() -> None:
    reordered = dict(reversed(list(DEFINITION.items())))
    assert content_hash(reordered) == content_hash(DEFINITION)
    tagged = {**DEFINITION, "tags": {CONTENT_HASH_TAG: "x"}}
    assert content_hash(tagged) == content_hash(DEFINITION)
    assert content_hash({**DEFINITION, "tags": {"team": "a"}}) != content_hash(DEFINITION)


async def test_prune_keeps_the_newest_active_revisions(
    batch: BatchService, proxy: BatchProxy
) -> None:
    for i in range(7):
        await batch.ensure_job_definition({**DEFINITION, "parameters": {"v": str(i)}})
    pruned = await batch.prune_job_definitions("by-content", keep=3)
    assert [p.rsplit(":", 1)[1] for p in pruned] == ["4", "3", "2", "1"]
    active = [d.revision async for d in batch.describe_job_definitions("by-content")]
    assert sorted(active) == [5, 6, 7]
    assert await batch.prune_job_definitions("by-content", keep=3) == []
    with pytest.raises(ValueError, match="keep"):
        await batch.prune_job_definitions("by-content", keep=0)
    with pytest.raises(ValueError, match="revision"):
        await batch.prune_job_definitions("by-content:3")
