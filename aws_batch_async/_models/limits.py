"""AWS Batch's limits, in one place (botocore's model and the AWS Batch documentation).

Every check of the library reads its bound here, so a limit AWS changes is changed once;
``docs/limits.md`` lists each with its source. The size limits are measured the way the
request is sent: :func:`payload_size` is botocore's own serialisation of a request (JSON).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "ARRAY_SIZE_MAX",
    "ARRAY_SIZE_MIN",
    "BULK_STOP_MAX_IDS",
    "DEPENDS_ON_MAX",
    "DESCRIBE_JOBS_MAX_IDS",
    "DESCRIBE_NAMES_MAX",
    "EVALUATE_ON_EXIT_MAX",
    "GENERATED_SUFFIX_LEN",
    "INT32_MAX",
    "INT64_MAX",
    "JOB_BASE_NAME_MAX",
    "JOB_DEFINITION_MAX_BYTES",
    "JOB_NAME_MAX",
    "JOB_NAME_PATTERN",
    "LIST_PAGE_SIZE_FILTER",
    "LIST_PAGE_SIZE_STATUS",
    "OVERRIDES_MAX_CHARS",
    "REASON_MAX",
    "RESERVED_TAG_PREFIX",
    "SHARE_IDENTIFIER_PATTERN",
    "SUBMIT_PAYLOAD_MAX_BYTES",
    "SUBMIT_TOKEN_LEN",
    "SUBMIT_TOKEN_TAG_KEY",
    "TAGS_MAX",
    "TAG_KEY_MAX",
    "TAG_PUNCTUATION",
    "TAG_VALUE_MAX",
    "check_definition_size",
    "check_overrides_size",
    "check_payload_floor",
    "check_submit_size",
    "check_tag",
    "chunked",
    "overrides_chars",
    "payload_size",
]

#: A job name: 1-128 characters, first alphanumeric, then letters, digits, ``-`` and ``_``.
JOB_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
JOB_NAME_MAX = 128
#: A generated job name is ``<base>-<12 hex characters>``.
GENERATED_SUFFIX_LEN = 12
JOB_BASE_NAME_MAX = JOB_NAME_MAX - GENERATED_SUFFIX_LEN - 1

#: DescribeJobs takes at most this many job ids per call.
DESCRIBE_JOBS_MAX_IDS = 100
#: DescribeJobQueues / DescribeComputeEnvironments / DescribeJobDefinitions: names per call.
DESCRIBE_NAMES_MAX = 100
#: CancelJobs / TerminateJobs: job ids per call.
BULK_STOP_MAX_IDS = 50
#: ListJobs ``maxResults`` with a ``jobStatus`` (1..1000) and with a filter (1..100).
LIST_PAGE_SIZE_STATUS = 1000
LIST_PAGE_SIZE_FILTER = 100

#: CancelJob / TerminateJob reason length.
REASON_MAX = 1024
#: Tags per job, and the lengths of a key and a value.
TAGS_MAX = 50
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
#: Tags whose key starts with this prefix belong to aws-batch-async (idempotency tokens).
RESERVED_TAG_PREFIX = "aws-batch-async:"
#: The idempotency token's tag (``_submitting/submitter.py`` adds it to every SubmitJob when
#: ``BatchConfig.idempotent_submit`` is on): its key and the length of its value.
SUBMIT_TOKEN_TAG_KEY = f"{RESERVED_TAG_PREFIX}submit-token"
SUBMIT_TOKEN_LEN = 32
#: The punctuation a tag key or value may hold besides letters, digits and spaces (AWS Batch's
#: "Tag restrictions"; ECS's ``TagKey``/``TagValue`` pattern ``[\p{L}\p{Z}\p{N}_.:/=+\-@]*``,
#: which a job's tags meet when they are propagated to its ECS task).
TAG_PUNCTUATION = frozenset("_.:/=+-@")

#: AWS's ``Integer`` (a signed 32-bit int) and ``Long`` (64-bit): every number sent is within.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

#: ``shareIdentifier``: up to 255 alphanumeric characters, optionally followed by ``*``.
SHARE_IDENTIFIER_PATTERN = r"^[A-Za-z0-9]{1,255}\*?$"

#: AWS Batch's quota "Maximum job payload size (for SubmitJob API operations)": 30 KiB.
SUBMIT_PAYLOAD_MAX_BYTES = 30 * 1024
#: AWS Batch's quota "Maximum job definition size (for RegisterJobDefinition)": 24 KiB.
JOB_DEFINITION_MAX_BYTES = 24 * 1024
#: ECS's limit on a task's overrides, JSON punctuation included (``RunTask``): AWS Batch hands a
#: job's container overrides to ECS, and an override past it FAILS the job after SubmitJob
#: accepted it ("Container Overrides length must be at most 8192").
OVERRIDES_MAX_CHARS = 8192

ARRAY_SIZE_MIN = 2
ARRAY_SIZE_MAX = 10_000
DEPENDS_ON_MAX = 20
EVALUATE_ON_EXIT_MAX = 5


def chunked(items: Sequence[str], size: int = DESCRIBE_JOBS_MAX_IDS) -> list[list[str]]:
    """Split ``items`` into lists of at most ``size`` (100 by default: one DescribeJobs call).

    Args:
        items: The ids or names.
        size: The most per list.

    Returns:
        The lists, in order.
    """
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def payload_size(params: Mapping[str, Any]) -> int:
    """The size in bytes of a request's body as botocore sends it (``json.dumps``, UTF-8).

    Args:
        params: The operation's parameters (botocore's keyword arguments).

    Returns:
        The body's length in bytes.
    """
    return len(json.dumps(params).encode("utf-8"))


def overrides_chars(overrides: Any) -> int:
    """The length of an override as ECS counts it: characters of its compact JSON.

    Args:
        overrides: A ``containerOverrides`` dict, or a list of them (one ECS task).

    Returns:
        Its length in characters.
    """
    return len(json.dumps(overrides, separators=(",", ":"), ensure_ascii=False))


def check_submit_size(params: Mapping[str, Any], *, token: bool) -> None:
    """Check SubmitJob's parameters against AWS's size limits, before any call.

    Every ECS override (``containerOverrides``, each node range's, an ECS task's containers)
    must be at most 8,192 characters, and the whole request at most 30 KiB.

    Args:
        params: SubmitJob's parameters.
        token: Whether the idempotency token's tag will be added (its bytes count too).

    Raises:
        ValueError: A limit is exceeded; the message names it and the measured size.
    """
    check_overrides_size(params)
    if token:
        tags = {**params.get("tags", {}), SUBMIT_TOKEN_TAG_KEY: "0" * SUBMIT_TOKEN_LEN}
        params = {**params, "tags": tags}
    size = payload_size(params)
    if size > SUBMIT_PAYLOAD_MAX_BYTES:
        raise ValueError(
            f"payload: the SubmitJob request is {size:,} bytes as botocore sends it (JSON"
            + (", with the idempotency token's tag" if token else "")
            + f"); AWS Batch takes at most {SUBMIT_PAYLOAD_MAX_BYTES:,} (30 KiB). Shorten the "
            "command, environment or parameters (pass large inputs by reference, e.g. an S3 URI)"
        )


def check_payload_floor(values: Iterable[Any]) -> None:
    """Check that the text a request sends fits in SubmitJob's 30 KiB, whatever its kind.

    Counts each string of ``values`` (mapping keys included, field names of models excluded)
    as botocore writes it, a JSON string: a strict lower bound of the payload, so a request it
    refuses is one AWS refuses, known before the job definition's kind is.

    Args:
        values: What a request sends (strings, lists, mappings, models; ``None`` counts 0).

    Raises:
        ValueError: The strings alone exceed 30 KiB; the message names the limit and the size.
    """
    floor = sum(_json_strings_size(value) for value in values if value is not None)
    if floor > SUBMIT_PAYLOAD_MAX_BYTES:
        raise ValueError(
            f"payload: the SubmitJob request would be at least {floor:,} bytes as botocore sends "
            f"it (JSON), its text alone; AWS Batch takes at most {SUBMIT_PAYLOAD_MAX_BYTES:,} "
            "(30 KiB). Shorten the command, environment or parameters (pass large inputs by "
            "reference, e.g. an S3 URI)"
        )


def _json_strings_size(value: Any) -> int:
    kind = type(value)
    if kind is str:
        # ASCII: 2 quotes plus the characters (escapes only add); else what json.dumps writes
        return len(value) + 2 if value.isascii() else len(json.dumps(value))
    if kind is dict:
        return sum(_json_strings_size(k) + _json_strings_size(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return sum(_json_strings_size(item) for item in value)
    if isinstance(value, str):  # an enum of strings, a str subclass
        return len(json.dumps(str(value)))
    fields = getattr(value, "__pydantic_fields__", None)
    if fields is not None:  # a model: its values, not its field names
        return sum(_json_strings_size(getattr(value, name)) for name in fields)
    if isinstance(value, Mapping):
        return sum(_json_strings_size(k) + _json_strings_size(v) for k, v in value.items())
    return 0


def check_overrides_size(params: Mapping[str, Any]) -> None:
    """Check each ECS override of SubmitJob's parameters against ECS's 8,192 characters.

    Args:
        params: SubmitJob's parameters.

    Raises:
        ValueError: An override is too long; the message names it and its length.
    """
    found: list[tuple[str, Any]] = []
    if "containerOverrides" in params:
        found.append(("containerOverrides", params["containerOverrides"]))
    node_ranges = params.get("nodeOverrides", {}).get("nodePropertyOverrides", ())
    for index, node in enumerate(node_ranges):
        if "containerOverrides" in node:
            where = f"nodeOverrides.nodePropertyOverrides[{index}].containerOverrides"
            found.append((where, node["containerOverrides"]))
    tasks = params.get("ecsPropertiesOverride", {}).get("taskProperties", ())
    for index, task in enumerate(tasks):
        where = f"ecsPropertiesOverride.taskProperties[{index}].containers"
        found.append((where, task.get("containers", [])))
    for where, overrides in found:
        length = overrides_chars(overrides)
        if length > OVERRIDES_MAX_CHARS:
            raise ValueError(
                f"{where}: {length:,} characters as ECS counts them (compact JSON); ECS takes at "
                f"most {OVERRIDES_MAX_CHARS:,}, and AWS Batch would accept the job and then FAIL "
                "it. Shorten the command or environment (pass large inputs by reference)"
            )


def check_definition_size(params: Mapping[str, Any]) -> None:
    """Check RegisterJobDefinition's parameters against AWS Batch's 24 KiB.

    Args:
        params: RegisterJobDefinition's parameters.

    Raises:
        ValueError: The definition is too large; the message names the limit and its size.
    """
    size = payload_size(params)
    if size > JOB_DEFINITION_MAX_BYTES:
        raise ValueError(
            f"definition: the RegisterJobDefinition request is {size:,} bytes as botocore sends "
            f"it (JSON); AWS Batch takes at most {JOB_DEFINITION_MAX_BYTES:,} (24 KiB)"
        )


def check_tag(key: str, value: str) -> None:
    """Check a tag against AWS's rules (lengths, characters, the reserved ``aws:`` prefix).

    Keys are 1-128 characters and values up to 256, of letters, digits, spaces (Unicode's
    ``L``, ``N`` and ``Z`` categories) and ``_ . : / = + - @``.

    Raises:
        ValueError: The tag breaks a rule; the message names the key, never the value.
    """
    if not 1 <= len(key) <= TAG_KEY_MAX:
        raise ValueError(
            f"tag key {_shown(key)} must be 1-{TAG_KEY_MAX} characters, not {len(key)}"
        )
    if len(value) > TAG_VALUE_MAX:
        raise ValueError(
            f"the value of tag {_shown(key)} is {len(value)} characters; at most {TAG_VALUE_MAX}"
        )
    for what, text in (("key", key), ("value", value)):
        if _TAG_ASCII.match(text):
            continue
        bad = next((c for c in text if not _tag_char(c)), None)
        if bad is not None:
            character = f"U+{ord(bad):04X}" if what == "value" else repr(bad)
            raise ValueError(
                f"tag {_shown(key)}: its {what} holds {character}; AWS takes letters, digits, "
                "spaces and _ . : / = + - @ only"
            )
    if key[:4].lower() == "aws:":
        raise ValueError(f"tag key {_shown(key)} uses the prefix 'aws:', reserved by AWS")


#: The common case of :func:`check_tag`, without a look-up per character.
_TAG_ASCII = re.compile(r"[A-Za-z0-9 _.:/=+@-]*\Z")


def _tag_char(char: str) -> bool:
    return char in TAG_PUNCTUATION or unicodedata.category(char)[0] in "LNZ"


def _shown(key: str) -> str:
    return repr(key[:40]) + ("..." if len(key) > 40 else "")
