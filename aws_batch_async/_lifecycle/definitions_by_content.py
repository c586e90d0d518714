"""Job definitions by content: register a revision only when the content changed; prune.

``ensure_job_definition`` hashes the RegisterJobDefinition parameters (canonical JSON,
SHA-256) and tags the revision it registers with :data:`CONTENT_HASH_TAG`. The latest ACTIVE
revision of the name is reused when its tag carries the same hash. Comparing AWS's own
normalized content instead would be fragile: AWS (and moto) add defaults and drop or inherit
fields, so a revision never reads back exactly as it was registered.

Concurrent calls of one service for the same name are serialized by a lock per name, and a
content already ensured is remembered, so N concurrent calls make one registration.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from .._infrastructure.definition_requests import JobDefinitionSpec
from .._infrastructure.job_definitions import JobDefinition, definition_params
from .._models.arguments import check_int, check_job_id
from .._models.limits import RESERVED_TAG_PREFIX
from .._transport.answers import validate_answer
from .._types import CallFn

__all__ = ["CONTENT_HASH_TAG", "DefinitionSync", "content_hash"]

#: The tag that carries a revision's content hash.
CONTENT_HASH_TAG = f"{RESERVED_TAG_PREFIX}content-hash"

Describe = Callable[[str], AsyncIterator[JobDefinition]]


class DefinitionSync:
    """Registers job definitions by content and prunes old revisions.

    Args:
        call: The service's Batch call.
        describe: ``describe_job_definitions(name)`` of the service (ACTIVE revisions).
        logger: Where to log.
    """

    def __init__(self, call: CallFn, describe: Describe, logger: logging.Logger) -> None:
        self._call = call
        self._describe = describe
        self._logger = logger
        self._locks: dict[str, asyncio.Lock] = {}
        self._ensured: dict[str, JobDefinition] = {}  # name -> the revision last ensured

    async def ensure(
        self, definition: Mapping[str, Any] | JobDefinitionSpec | None, fields: dict[str, Any]
    ) -> JobDefinition:
        """The ACTIVE revision with this content, registered if there is none.

        Raises:
            TypeError: Both a definition and keywords, or a definition that is no mapping.
            ValueError: A raw definition without name or type; bad keywords.
            MalformedResponseError: A damaged DescribeJobDefinitions or RegisterJobDefinition
                answer.
            BatchAPIError: AWS answered with an error.
        """
        params = definition_params(definition, fields)
        name = str(params["jobDefinitionName"])
        digest = content_hash(params)
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            known = self._ensured.get(name)
            if known is not None and known.tags.get(CONTENT_HASH_TAG) == digest:
                return known
            latest = await self._latest(name)
            if latest is not None and latest.tags.get(CONTENT_HASH_TAG) == digest:
                self._logger.debug("job definition %s:%d is up to date", name, latest.revision)
                self._ensured[name] = latest
                return latest
            tagged = {**params, "tags": {**(params.get("tags") or {}), CONTENT_HASH_TAG: digest}}
            raw = await self._call("RegisterJobDefinition", **tagged)
            answered = {**tagged, **raw, "status": "ACTIVE"}
            revision = validate_answer(JobDefinition, answered, "RegisterJobDefinition")
            self._logger.info(
                "registered job definition %s:%d (content changed)", name, revision.revision
            )
            self._ensured[name] = revision
            return revision

    async def prune(self, name: str, keep: int) -> list[str]:
        """Deregister the ACTIVE revisions of ``name`` but the ``keep`` newest; their ARNs.

        Raises:
            TypeError: ``name`` is no string or ``keep`` no int.
            ValueError: ``name`` is empty or has a revision; ``keep`` below 1.
            BatchAPIError: AWS answered with an error.
        """
        check_job_id(name, "name")
        if ":" in name:
            raise ValueError("prune_job_definitions takes a name without a revision")
        check_int(keep, "keep", low=1)
        async with self._locks.setdefault(name, asyncio.Lock()):
            revisions = [d async for d in self._describe(name) if d.name == name and d.is_active]
            revisions.sort(key=lambda d: d.revision, reverse=True)
            pruned: list[str] = []
            for old in revisions[keep:]:
                await self._call("DeregisterJobDefinition", jobDefinition=old.arn)
                pruned.append(old.arn)
            known = self._ensured.get(name)
            if known is not None and known.arn in pruned:
                del self._ensured[name]
            if pruned:
                self._logger.info("deregistered %d old revision(s) of %s", len(pruned), name)
            return pruned

    async def _latest(self, name: str) -> JobDefinition | None:
        latest: JobDefinition | None = None
        async for found in self._describe(name):
            newer = latest is None or found.revision > latest.revision
            if found.name == name and found.is_active and newer:
                latest = found
        return latest


def content_hash(params: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of RegisterJobDefinition parameters as canonical JSON, without our tags."""
    content = dict(params)
    tags = {
        k: v
        for k, v in (content.get("tags") or {}).items()
        if not str(k).startswith(RESERVED_TAG_PREFIX)
    }
    if tags:
        content["tags"] = tags
    else:
        content.pop("tags", None)
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
