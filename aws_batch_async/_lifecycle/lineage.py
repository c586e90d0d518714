"""What the library reads into a described job besides AWS's fields: its lineage.

``JobDetail.resubmitted_from`` comes from the tag a resubmission carries
(:data:`RESUBMIT_TAG_KEY`: the ids of the jobs it replaces, oldest first), and each
``AttemptDetail.index`` from the attempt's place in the job's attempts (so that
``attempts[i].failure.attempt`` is ``i``). :func:`prepare_lineage` runs in ``JobDetail``'s
validator, after ``_models/job_kinds.prepare_detail``, on the dict that one returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._models.limits import RESERVED_TAG_PREFIX, TAG_VALUE_MAX

__all__ = ["RESUBMIT_TAG_KEY", "chain_tag", "prepare_lineage"]

#: The tag of a resubmitted job: the ids it replaces, oldest first, spaces between.
RESUBMIT_TAG_KEY = f"{RESERVED_TAG_PREFIX}resubmit-of"


def prepare_lineage(data: Any, raw_key: str) -> Any:
    """``data`` with ``resubmittedFrom`` (from the tag) and each attempt's ``index``.

    Args:
        data: What ``prepare_detail`` returned (its own new dict; changed in place).
        raw_key: The key of the job as AWS sent it (whose tags still hold the library's).

    Returns:
        ``data``.
    """
    if not isinstance(data, dict):
        return data
    if "resubmitted_from" not in data and "resubmittedFrom" not in data:
        for source in (data.get(raw_key), data):
            tags = source.get("tags") if isinstance(source, Mapping) else None
            chain = tags.get(RESUBMIT_TAG_KEY) if isinstance(tags, Mapping) else None
            if isinstance(chain, str) and chain.strip():
                data["resubmittedFrom"] = chain.split()
                break
    attempts = data.get("attempts")
    if isinstance(attempts, list) and attempts:
        data["attempts"] = [
            {**item, "index": index} if isinstance(item, dict) and "index" not in item else item
            for index, item in enumerate(attempts)
        ]
    return data


def chain_tag(chain: list[str]) -> dict[str, str]:
    """The tag a resubmission carries: the ids it replaces, oldest first, newest kept.

    Args:
        chain: The replaced jobs' ids, oldest first.

    Returns:
        ``{RESUBMIT_TAG_KEY: "<id> <id> ..."}`` (as many of the newest ids as fit 256
        characters).
    """
    kept: list[str] = []
    for job_id in reversed(chain):
        if len(" ".join([job_id, *kept])) > TAG_VALUE_MAX:
            break
        kept.insert(0, job_id)
    return {RESUBMIT_TAG_KEY: " ".join(kept)}
