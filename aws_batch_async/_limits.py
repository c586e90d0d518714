"""AWS Batch's limits, in one place (botocore's model and the AWS Batch documentation).

Every check of the library reads its bound here, so a limit AWS changes is changed once.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ARRAY_SIZE_MAX",
    "ARRAY_SIZE_MIN",
    "BULK_STOP_MAX_IDS",
    "DEPENDS_ON_MAX",
    "DESCRIBE_JOBS_MAX_IDS",
    "DESCRIBE_NAMES_MAX",
    "EVALUATE_ON_EXIT_MAX",
    "GENERATED_SUFFIX_LEN",
    "JOB_BASE_NAME_MAX",
    "JOB_NAME_MAX",
    "JOB_NAME_PATTERN",
    "LIST_PAGE_SIZE_FILTER",
    "LIST_PAGE_SIZE_STATUS",
    "REASON_MAX",
    "RESERVED_TAG_PREFIX",
    "TAGS_MAX",
    "TAG_KEY_MAX",
    "TAG_VALUE_MAX",
    "chunked",
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
