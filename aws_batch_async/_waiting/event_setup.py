"""Setting event-driven waiting up: ``ensure_event_queue`` (EventBridge rule -> SQS queue).

The part of :class:`~aws_batch_async.BatchService` behind it: :class:`EventSetup`. What the
queue feeds is in ``_waiting/event_feed.py``; the reasons and the IAM permissions are in
``docs/events.md``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from typing import Any

from .._config import BatchConfig
from .._errors import ConfigurationError
from .._transport.clients import Clients

__all__ = ["EventSetup", "event_pattern", "queue_policy", "rule_name"]

_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_PREFIX_MAX = 128
#: The id of the rule's SQS target, and the prefix of the queue policy's statement ids.
TARGET_ID = "aws-batch-async"


class EventSetup:
    """Sets event-driven waiting up for the service: the rule and the queue it feeds.

    Args:
        clients: The service's clients (Batch, SQS and EventBridge calls go through them).
        config: The service's configuration (its ``job_queue``).
        logger: Where to log.
    """

    def __init__(self, clients: Clients, config: BatchConfig, logger: logging.Logger) -> None:
        self._clients = clients
        self._config = config
        self._logger = logger

    async def ensure_event_queue(
        self, queue_name: str, *, job_queue: str | None, job_name_prefix: str | None
    ) -> str:
        """``BatchService.ensure_event_queue``: the queue, its policy and the rule, idempotently."""
        _check_arguments(queue_name, job_queue, job_name_prefix)
        queue = job_queue if job_queue is not None else self._config.job_queue
        if queue is None:
            raise ConfigurationError("no job queue: pass job_queue= or set BatchConfig.job_queue")
        answer = await self._clients.call("DescribeJobQueues", jobQueues=[queue])
        found = [
            q
            for q in answer.get("jobQueues", [])
            if queue in (q.get("jobQueueName"), q.get("jobQueueArn"))
        ]
        if not found:
            raise ConfigurationError(f"job queue {queue!r} was not found")
        queue_arn = str(found[0]["jobQueueArn"])

        sqs = functools.partial(self._clients.call_service, "sqs")
        events = functools.partial(self._clients.call_service, "events")
        url = str((await sqs("CreateQueue", QueueName=queue_name))["QueueUrl"])
        attributes = (
            await sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["QueueArn", "Policy"])
        ).get("Attributes", {})
        sqs_arn = str(attributes["QueueArn"])
        name = rule_name(queue_name, queue_arn, job_name_prefix)
        rule = await events(
            "PutRule",
            Name=name,
            EventPattern=json.dumps(event_pattern(queue_arn, job_name_prefix)),
            State="ENABLED",
            Description=f"AWS Batch job state changes of {queue_arn} for aws-batch-async",
        )
        policy = queue_policy(attributes.get("Policy"), sqs_arn, name, str(rule["RuleArn"]))
        if policy is not None:
            await sqs("SetQueueAttributes", QueueUrl=url, Attributes={"Policy": policy})
        await events("PutTargets", Rule=name, Targets=[{"Id": TARGET_ID, "Arn": sqs_arn}])
        self._logger.info("event queue %s receives the job state changes of %s", url, queue_arn)
        return url


def event_pattern(job_queue_arn: str, job_name_prefix: str | None = None) -> dict[str, Any]:
    """The EventBridge pattern of one job queue's job state changes.

    Args:
        job_queue_arn: The job queue's ARN (events name the queue by ARN).
        job_name_prefix: Only jobs whose name starts with this.

    Returns:
        The pattern, to be sent as JSON.
    """
    from .event_feed import DETAIL_TYPE, SOURCE

    detail: dict[str, Any] = {"jobQueue": [job_queue_arn]}
    if job_name_prefix is not None:
        detail["jobName"] = [{"prefix": job_name_prefix}]
    return {"source": [SOURCE], "detail-type": [DETAIL_TYPE], "detail": detail}


def rule_name(queue_name: str, job_queue_arn: str, job_name_prefix: str | None) -> str:
    """A stable rule name per (SQS queue, job queue, prefix): at most 64 characters."""
    key = "\n".join((queue_name, job_queue_arn, job_name_prefix or ""))
    return f"{queue_name[:40]}-batch-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def queue_policy(existing: str | None, queue_arn: str, rule: str, rule_arn: str) -> str | None:
    """The queue policy with this rule's statement, or ``None`` if it already has it.

    Other statements (other rules, the owner's own) are kept as they are.

    Args:
        existing: The queue's current ``Policy`` attribute, if any.
        queue_arn: The queue's ARN.
        rule: The rule's name (the statement's id is derived from it).
        rule_arn: The rule's ARN: the only source allowed by this statement.

    Returns:
        The policy as JSON, or ``None`` when nothing needs to change.
    """
    statement = {
        "Sid": f"{TARGET_ID}-{rule}",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }
    policy: dict[str, Any] = {"Version": "2012-10-17", "Statement": []}
    if existing:
        try:
            loaded = json.loads(existing)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict) and isinstance(loaded.get("Statement", []), list):
            policy = loaded
        elif isinstance(loaded, dict) and isinstance(loaded.get("Statement"), dict):
            policy = {**loaded, "Statement": [loaded["Statement"]]}
    statements = policy.setdefault("Statement", [])
    if statement in statements:
        return None
    policy["Statement"] = [
        s for s in statements if not (isinstance(s, dict) and s.get("Sid") == statement["Sid"])
    ] + [statement]
    return json.dumps(policy)


def _check_arguments(queue_name: object, job_queue: object, prefix: object) -> None:
    if not isinstance(queue_name, str):
        raise TypeError(f"queue_name must be a string, not {type(queue_name).__name__}")
    if not _QUEUE_NAME.fullmatch(queue_name):
        raise ValueError(
            "queue_name must be 1-80 letters, digits, '-' or '_' (a standard queue, not FIFO)"
        )
    if job_queue is not None and (not isinstance(job_queue, str) or not job_queue.strip()):
        raise (TypeError if not isinstance(job_queue, str) else ValueError)(
            "job_queue must be a non-empty string"
        )
    if prefix is not None:
        if not isinstance(prefix, str):
            raise TypeError(f"job_name_prefix must be a string, not {type(prefix).__name__}")
        if not 1 <= len(prefix) <= _PREFIX_MAX:
            raise ValueError(f"job_name_prefix must be 1-{_PREFIX_MAX} characters")
