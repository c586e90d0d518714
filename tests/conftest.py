"""Shared fixtures: a real moto server, the AWS-faithful proxy in front of it, and a service.

* ``moto_server`` (session): moto on 127.0.0.1 with a free port, Batch in simple mode (jobs are
  SUCCEEDED when SubmitJob returns; FAILED with ``MOTO_SIMPLE_BATCH_FAIL_AFTER=0``).
* ``proxy`` (session, reset per test): :class:`aws_batch_async.testing.BatchProxy`, which pages
  ListJobs, defaults it to RUNNING, enforces 100 ids per DescribeJobs, counts calls, injects faults.
* ``infra``: moto wiped and a queue + job definition created, for each test.
* ``config`` / ``batch``: a BatchConfig pointing at the proxy, and an open BatchService.
* ``logs_client``: a CloudWatch Logs client through the proxy, to write the streams jobs read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiobotocore.session import AioSession

from aws_batch_async import BatchConfig, BatchService
from aws_batch_async.testing import (
    BatchInfrastructure,
    BatchProxy,
    MotoServer,
    create_batch_infrastructure,
)

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _restore_the_library_logger() -> Iterator[None]:
    """A CLI run in this process (typer's runner) quiets the library's logger; undo it after."""
    logger = logging.getLogger("aws_batch_async")
    saved = (logger.level, logger.propagate, list(logger.handlers), logger.disabled)
    yield
    logger.setLevel(saved[0])
    logger.propagate = saved[1]
    logger.handlers[:] = saved[2]
    logger.disabled = saved[3]


@pytest.fixture(autouse=True)
def _isolate_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Strip the developer's real AWS settings; give botocore fake credentials only."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", raising=False)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer(simple_batch=True) as server:
        yield server


@pytest.fixture(scope="session")
def _session_proxy(moto_server: MotoServer) -> Iterator[BatchProxy]:
    with BatchProxy(moto_server.url, seed=1234) as proxy:
        yield proxy


@pytest.fixture
def infra(moto_server: MotoServer) -> BatchInfrastructure:
    """A fresh moto (state wiped) with a queue and a job definition."""
    moto_server.reset()
    return create_batch_infrastructure(moto_server.url, region=REGION)


@pytest.fixture
def proxy(_session_proxy: BatchProxy, infra: BatchInfrastructure) -> Iterator[BatchProxy]:
    """The AWS-faithful proxy, with no faults and no recorded calls."""
    _session_proxy.reset()
    yield _session_proxy
    _session_proxy.reset()


@pytest.fixture
def config(proxy: BatchProxy, infra: BatchInfrastructure) -> BatchConfig:
    return BatchConfig(
        region=REGION,
        endpoint_url=proxy.url,
        job_queue=infra.job_queue,
        job_definition=infra.job_definition,
    )


@pytest.fixture
async def batch(config: BatchConfig) -> AsyncIterator[BatchService]:
    async with BatchService(config) as service:
        yield service


@pytest.fixture
async def logs_client(proxy: BatchProxy) -> AsyncIterator[Any]:
    """A CloudWatch Logs client of moto's, through the proxy (to write streams jobs read)."""
    async with AioSession().create_client(
        "logs",
        region_name=REGION,
        endpoint_url=proxy.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        yield client
