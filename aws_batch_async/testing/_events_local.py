"""LocalBatch's job state-change events: what AWS Batch sends to EventBridge, for moto's jobs.

moto's Batch emits no events. With ``LocalBatch(events=True)`` the child process sets up what
``BatchService.ensure_event_queue`` sets up on AWS (an SQS queue, its policy, an EventBridge rule
on the default bus with the queue as target, all in the same moto server), and
:class:`EventEmitter` watches moto's jobs from a thread: each status a job takes (none for
SUBMITTED, as on AWS; an array parent also when its children's summary changes) becomes a
``Batch Job State Change`` event, sent with PutEvents, whose ``detail`` is the job as
DescribeJobs shows it through the proxy (the bridge's amendments included). moto's EventBridge
then delivers it to the queue through the rule, pattern matching included.

It runs in the child only, synchronously (its own thread; the child's loop is not blocked).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from .._waiting.event_setup import TARGET_ID, event_pattern, queue_policy
from ._moto import FAKE_CREDENTIALS

__all__ = ["EventEmitter", "create_event_queue"]

DETAIL_TYPE = "Batch Job State Change"
QUEUE_NAME = "local-batch-events"
_SCAN_SECONDS = 0.05
_TERMINAL = ("SUCCEEDED", "FAILED")
_log = logging.getLogger("aws_batch_async.testing.local")


def create_event_queue(moto_url: str, region: str, job_queue: str) -> str:
    """Create the queue, its policy and the rule + target for ``job_queue``; its URL.

    Args:
        moto_url: moto's endpoint (127.0.0.1).
        region: The region of the resources.
        job_queue: The job queue's name.

    Returns:
        The SQS queue's URL.
    """
    batch, sqs, events = (_client(name, moto_url, region) for name in ("batch", "sqs", "events"))
    queue_arn = batch.describe_job_queues(jobQueues=[job_queue])["jobQueues"][0]["jobQueueArn"]
    url: str = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
    sqs_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule_arn = events.put_rule(
        Name=QUEUE_NAME, EventPattern=json.dumps(event_pattern(queue_arn)), State="ENABLED"
    )["RuleArn"]
    policy = queue_policy(None, sqs_arn, QUEUE_NAME, rule_arn)
    assert policy is not None
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    events.put_targets(Rule=QUEUE_NAME, Targets=[{"Id": TARGET_ID, "Arn": sqs_arn}])
    return url


class EventEmitter:
    """Watches moto's jobs and puts an event on EventBridge for each status they take.

    Args:
        moto_url: moto's endpoint.
        region: The region of the jobs (and of the event bus).
        amend: Completes a DescribeJobs job as the proxy does (``_MotoBridge.amend``).
        interval: Seconds between two looks at moto's jobs.
    """

    def __init__(
        self,
        moto_url: str,
        region: str,
        amend: Callable[[dict[str, Any]], None],
        *,
        interval: float = _SCAN_SECONDS,
    ) -> None:
        self._region = region
        self._amend = amend
        self._interval = interval
        self._events = _client("events", moto_url, region)
        self._seen: dict[str, object] = {}  # job id -> what was last reported
        self._done: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-batch events", daemon=True)

    def start(self) -> EventEmitter:
        """Start the thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread (after its current look). Idempotent."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.scan()
            except Exception:  # keep watching: a failed look is retried at the next one
                _log.exception("cannot emit job state-change events")

    def scan(self) -> int:
        """Look at every job once; put an event for each change. The number of events."""
        entries = []
        for job in self._jobs():
            job_id = job.job_id
            if job_id in self._done:
                continue
            parent = bool(getattr(job, "_child_jobs", None))
            status = job.status
            if status == "SUBMITTED" or (not parent and self._seen.get(job_id) == status):
                continue  # AWS sends no event for SUBMITTED
            detail = job.describe()
            status = detail.get("status", status)
            summary = (detail.get("arrayProperties") or {}).get("statusSummary")
            key = (status, tuple(sorted(summary.items())) if summary else None)
            if self._seen.get(job_id) == (key if parent else status):
                continue
            self._seen[job_id] = key if parent else status
            if status in _TERMINAL:
                self._done.add(job_id)
                self._seen.pop(job_id, None)
            self._amend(detail)
            entries.append(
                {
                    "Source": "aws.batch",
                    "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps(detail, default=str),
                    "Resources": [detail.get("jobArn", "")],
                }
            )
        for start in range(0, len(entries), 10):
            self._events.put_events(Entries=entries[start : start + 10])
        return len(entries)

    def _jobs(self) -> list[Any]:
        from moto.batch.models import batch_backends
        from moto.core.models import DEFAULT_ACCOUNT_ID

        jobs = batch_backends[DEFAULT_ACCOUNT_ID][self._region]._jobs
        for _ in range(5):
            try:
                return list(jobs.values())
            except RuntimeError:  # a submit changed the dict meanwhile: look again
                continue
        return []


def _client(service: str, url: str, region: str) -> Any:
    import botocore.session

    return botocore.session.get_session().create_client(
        service,
        region_name=region,
        endpoint_url=url,
        aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
    )
