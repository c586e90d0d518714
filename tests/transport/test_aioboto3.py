"""Interop: a caller's aioboto3 Session drives the service (run by `nox -s tests_aioboto3`).

aioboto3 pins aiobotocore exactly, so it is an optional extra with its own nox session; in the
main test session (no aioboto3 installed) this module is skipped with that reason. It also
runs the aioboto3 example of the docs (``docs/examples/aioboto3_session.py``).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

from aws_batch_async import BatchConfig, BatchService, ConfigurationError, JobRequest, JobStatus
from aws_batch_async.testing import BatchProxy

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

aioboto3 = pytest.importorskip(
    "aioboto3", reason="aioboto3 is optional; `nox -s tests_aioboto3` installs and tests it"
)


async def test_aioboto3_session_is_used_and_left_open(
    config: BatchConfig, proxy: BatchProxy
) -> None:
    session = aioboto3.Session(
        aws_access_key_id="aioboto3-key", aws_secret_access_key="x", region_name="us-east-1"
    )
    async with BatchService(config, session=session) as batch:
        result = await batch.submit_job(JobRequest(command=["echo", "hi"]))
        job = await batch.get_job_status(result.job_id)
        assert job.status is JobStatus.SUCCEEDED
        listed = [s.job_id async for s in batch.list_jobs()]
        assert listed == [result.job_id]
    assert {c.access_key_id for c in proxy.calls} == {"aioboto3-key"}
    # the caller's session still works after the service closed
    async with session.client("batch", endpoint_url=proxy.url) as client:
        described = await client.describe_jobs(jobs=[result.job_id])
        assert described["jobs"][0]["jobId"] == result.job_id


def load_example(name: str) -> ModuleType:
    """Import ``docs/examples/<name>.py`` (``docs/examples`` is not a package)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


async def test_the_aioboto3_example_shares_the_apps_session(
    config: BatchConfig, proxy: BatchProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load_example("aioboto3_session")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "the-apps-key")  # what the app's session resolves
    session = example.make_session(region="us-east-1")
    requests = [JobRequest(command=["echo", str(i)]) for i in range(3)]
    jobs = await example.run_jobs(session, config, requests, timeout=60)
    assert sorted(job.status for job in jobs) == [JobStatus.SUCCEEDED] * 3
    assert {c.access_key_id for c in proxy.calls} == {"the-apps-key"}
    # The service closed its clients, not the session: the app's own clients still work.
    async with session.client("batch", endpoint_url=proxy.url) as client:
        described = await client.describe_jobs(jobs=[job.job_id for job in jobs])
        assert len(described["jobs"]) == 3
    # The session decided the profile: a profile in the config as well is refused.
    with pytest.raises(ConfigurationError, match=r"session or BatchConfig\.profile"):
        BatchService(config.model_copy(update={"profile": "other"}), session=session)
