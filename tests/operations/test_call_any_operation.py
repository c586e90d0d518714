"""Every Batch operation by name (``call`` / ``paginate``), and the package's one paginator.

Against moto through the proxy where moto has the operation (scheduling policies, tags,
ListJobs paged by the proxy); the proxy's injected answers for what moto does not do (a token
given back twice). The docs' table of the 48 operations is pinned to botocore's model here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import botocore.session
import pytest
from botocore import xform_name
from botocore.loaders import create_loader

from aws_batch_async import (
    BatchAPIError,
    BatchConfig,
    BatchService,
    JobRequest,
    ServiceClosedError,
    ThrottlingError,
)
from aws_batch_async._operations.any_operation import is_paginated
from aws_batch_async._transport.clients import _snake
from aws_batch_async._transport.pagination import pages
from aws_batch_async.testing import BatchInfrastructure, BatchProxy

ROOT = Path(__file__).resolve().parents[2]
LOG = logging.getLogger("aws_batch_async.tests.any_operation")
T = TypeVar("T")
FAIR_SHARE = {"shareDecaySeconds": 3600, "computeReservation": 10}


async def collect(items: AsyncIterator[T]) -> list[T]:
    return [item async for item in items]


@pytest.fixture(scope="module")
def model() -> Any:
    return botocore.session.get_session().get_service_model("batch")


# ---------------------------------------------------------------------------------------------
# call


async def test_operations_without_a_typed_method_are_called_by_name(
    batch: BatchService, proxy: BatchProxy
) -> None:
    created = await batch.call("CreateSchedulingPolicy", name="fair", fairsharePolicy=FAIR_SHARE)
    arn = created["arn"]
    assert created["name"] == "fair"
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 200  # botocore's parsed answer
    await batch.call("tag_resource", resourceArn=arn, tags={"team": "ml", "cost": "a"})
    await batch.call("UntagResource", resourceArn=arn, tagKeys=["cost"])
    assert (await batch.call("list_tags_for_resource", resourceArn=arn))["tags"] == {"team": "ml"}
    [policy] = (await batch.call("DescribeSchedulingPolicies", arns=[arn]))["schedulingPolicies"]
    assert policy["fairsharePolicy"]["shareDecaySeconds"] == 3600
    assert proxy.counts() == {
        "CreateSchedulingPolicy": 1,
        "TagResource": 1,
        "UntagResource": 1,
        "ListTagsForResource": 1,
        "DescribeSchedulingPolicies": 1,
    }


@pytest.mark.parametrize(
    ("operation", "error", "match"),
    [
        ("ListSchedulingPolicy", ValueError, "ListSchedulingPolicies"),  # the nearest names
        ("list_scheduling_policy", ValueError, "list_scheduling_policies"),
        ("DescribeJob", ValueError, "no operation 'DescribeJob'"),
        ("delete_everything", ValueError, "no operation"),
        ("", ValueError, "no operation"),
        (42, TypeError, "must be a string"),
    ],
)
async def test_an_unknown_operation_is_refused_before_any_call(
    batch: BatchService, proxy: BatchProxy, operation: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        await batch.call(operation)
    with pytest.raises(error, match=match):
        batch.paginate(operation)
    assert proxy.count() == 0


@pytest.mark.parametrize(
    ("operation", "params", "match"),
    [
        ("CreateSchedulingPolicy", {}, "Missing required parameter.*name"),
        ("ListSchedulingPolicies", {"maxResult": 3}, "Unknown parameter.*maxResult"),
        ("ListSchedulingPolicies", {"maxResults": "3"}, "Invalid type for parameter maxResults"),
    ],
)
async def test_parameters_the_model_refuses_are_refused_before_any_call(
    batch: BatchService, proxy: BatchProxy, operation: str, params: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        await batch.call(operation, **params)
    with pytest.raises(ValueError, match=match):
        batch.paginate(operation, **params)
    assert proxy.count() == 0


async def test_errors_are_the_librarys_with_botocores_retries(
    batch: BatchService, proxy: BatchProxy
) -> None:
    proxy.inject_error("DescribeSchedulingPolicies", status=400, code="ClientException", times=1)
    with pytest.raises(BatchAPIError) as refused:
        await batch.call("DescribeSchedulingPolicies", arns=["arn:nope"])
    assert (refused.value.operation, refused.value.code) == (
        "DescribeSchedulingPolicies",
        "ClientException",
    )
    assert refused.value.__cause__ is not None  # botocore's error kept
    proxy.clear_calls()
    proxy.inject_error("ListSchedulingPolicies", status=429)
    with pytest.raises(ThrottlingError):
        await batch.call("ListSchedulingPolicies")
    assert proxy.count("ListSchedulingPolicies") == batch.config.api_max_attempts  # retried


async def test_parameter_values_are_never_logged(
    batch: BatchService, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="aws_batch_async"):
        created = await batch.call(
            "CreateSchedulingPolicy",
            name="policy-s3cr3t-name",
            fairsharePolicy=FAIR_SHARE,
            tags={"token": "hunter2-value"},
        )
        await batch.call("TagResource", resourceArn=created["arn"], tags={"k": "hunter2-value"})
    ours = [r for r in caplog.records if r.name.startswith("aws_batch_async")]
    text = "\n".join(r.getMessage() for r in ours)
    assert "CreateSchedulingPolicy with fairsharePolicy, name, tags" in text
    assert "TagResource with resourceArn, tags" in text
    assert "hunter2" not in text
    assert "s3cr3t" not in text


async def test_a_closed_service_refuses_calls(config: BatchConfig) -> None:
    service = BatchService(config)
    with pytest.raises(ServiceClosedError):
        await service.call("ListSchedulingPolicies")
    async with service:
        pass
    with pytest.raises(ServiceClosedError):
        service.paginate("ListSchedulingPolicies")


# ---------------------------------------------------------------------------------------------
# paginate


async def test_paginate_yields_pages_lazily(
    batch: BatchService, proxy: BatchProxy, infra: BatchInfrastructure
) -> None:
    ids = [(await batch.submit_job(JobRequest())).job_id for _ in range(5)]
    proxy.clear_calls()
    listing = batch.paginate(
        "list_jobs", jobQueue=infra.job_queue, jobStatus="SUCCEEDED", maxResults=2
    )
    assert proxy.count() == 0  # checked, not sent
    first = await anext(listing)
    assert len(first["jobSummaryList"]) == 2
    assert proxy.count("ListJobs") == 1
    rest = [page async for page in listing]
    assert [len(p["jobSummaryList"]) for p in rest] == [2, 1]
    assert proxy.count("ListJobs") == 3
    seen = [s["jobId"] for p in [first, *rest] for s in p["jobSummaryList"]]
    assert sorted(seen) == sorted(ids)
    # A nextToken among the parameters starts from that page.
    resumed = batch.paginate(
        "ListJobs",
        jobQueue=infra.job_queue,
        jobStatus="SUCCEEDED",
        maxResults=2,
        nextToken=first["nextToken"],
    )
    assert [len(p["jobSummaryList"]) async for p in resumed] == [2, 1]


async def test_paginate_takes_only_paged_operations(batch: BatchService, proxy: BatchProxy) -> None:
    with pytest.raises(ValueError, match="DescribeSchedulingPolicies is not a paged operation"):
        batch.paginate("DescribeSchedulingPolicies", arns=["a"])
    pages_seen = [p async for p in batch.paginate("ListSchedulingPolicies")]
    assert [p["schedulingPolicies"] for p in pages_seen] == [[]]
    assert proxy.count() == 1


LOOPING = '{"schedulingPolicies": [{"arn": "arn:policy"}], "nextToken": "again"}'


async def test_paginate_stops_at_a_token_given_back_twice(
    batch: BatchService, proxy: BatchProxy, caplog: pytest.LogCaptureFixture
) -> None:
    proxy.inject_answer("ListSchedulingPolicies", LOOPING, content_type="application/json")
    with caplog.at_level(logging.WARNING, logger="aws_batch_async"):
        found = await asyncio.wait_for(collect(batch.paginate("ListSchedulingPolicies")), 10)
    assert len(found) == 2  # the first answer's token was sent once, and given back
    assert proxy.count("ListSchedulingPolicies") == 2
    assert any("gave back a token" in r.getMessage() for r in caplog.records)


async def test_the_job_definition_lookup_stops_at_a_token_given_back_twice(
    batch: BatchService, proxy: BatchProxy, infra: BatchInfrastructure
) -> None:
    # The lookup of a definition's kind (before SubmitJob) had its own nextToken loop, without
    # the guard: an endpoint repeating its token kept it asking for ever.
    name = infra.job_definition
    definition = {
        "jobDefinitionName": name,
        "jobDefinitionArn": f"arn:aws:batch:us-east-1:123456789012:job-definition/{name}:1",
        "revision": 1,
        "status": "ACTIVE",
        "type": "container",
        "containerProperties": {"image": "busybox"},
    }
    body = json.dumps({"jobDefinitions": [definition], "nextToken": "again"})
    proxy.inject_answer("DescribeJobDefinitions", body, content_type="application/json")
    job = await asyncio.wait_for(batch.submit_job(JobRequest(job_definition=name)), 10)
    assert job.job_id
    assert proxy.count("DescribeJobDefinitions") == 2


async def test_list_jobs_stops_at_a_token_given_back_twice(
    batch: BatchService, proxy: BatchProxy
) -> None:
    body = '{"jobSummaryList": [{"jobId": "j-1", "jobName": "a"}], "nextToken": "again"}'
    proxy.inject_answer("ListJobs", body, content_type="application/json")
    found = await asyncio.wait_for(collect(batch.list_jobs(job_status="RUNNING")), 10)
    assert [job.job_id for job in found] == ["j-1", "j-1"]
    assert proxy.count("ListJobs") == 2


# ---------------------------------------------------------------------------------------------
# The paginator itself


class Answers:
    """A ``call`` answering ListJobs with one page per token, from a table."""

    def __init__(self, following: dict[str | None, str | None]) -> None:
        self.following = following
        self.sent: list[str | None] = []

    async def __call__(self, operation: str, /, **params: Any) -> dict[str, Any]:
        token = params.get("nextToken")
        self.sent.append(token)
        page: dict[str, Any] = {"items": [token]}
        following = self.following[token]
        if following is not None:
            page["nextToken"] = following
        return page


async def test_the_paginator_follows_tokens_and_stops_at_a_cycle(
    caplog: pytest.LogCaptureFixture,
) -> None:
    straight = Answers({None: "a", "a": "b", "b": None})
    assert [p["items"] async for p in pages(straight, "ListJobs", {"q": 1}, logger=LOG)] == [
        [None],
        ["a"],
        ["b"],
    ]
    looping = Answers({None: "a", "a": "b", "b": "a"})  # a, b, a, b... for ever
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        found = [p async for p in pages(looping, "ListJobs", {}, logger=LOG)]
    assert looping.sent == [None, "a", "b"]
    assert len(found) == 3
    assert sum("gave back a token" in r.getMessage() for r in caplog.records) == 1


async def test_the_paginator_resumes_and_reads_streams_to_their_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    resumed = Answers({"a": "b", "b": None})
    found = [p async for p in pages(resumed, "ListJobs", {}, start_token="a")]
    assert (resumed.sent, len(found)) == (["a", "b"], 2)

    class Stream(Answers):  # GetLogEvents: nextToken in, nextForwardToken out
        async def __call__(self, operation: str, /, **params: Any) -> dict[str, Any]:
            page = await super().__call__(operation, **params)
            return {"nextForwardToken": page.pop("nextToken", None), **page}

    ends = Stream({None: "f1", "f1": "f2", "f2": "f2"})  # the end: the token sent, given back
    kwargs: dict[str, Any] = {"output_token": "nextForwardToken", "end_on_repeat": True}
    with caplog.at_level(logging.WARNING):
        found = [p async for p in pages(ends, "GetLogEvents", {}, logger=LOG, **kwargs)]
    assert ends.sent == [None, "f1", "f2"]
    assert not caplog.records  # the ordinary end of a stream
    cycling = Stream({None: "f1", "f1": "f2", "f2": "f1"})
    with caplog.at_level(logging.WARNING):
        found = [p async for p in pages(cycling, "GetLogEvents", {}, logger=LOG, **kwargs)]
    assert cycling.sent == [None, "f1", "f2"]
    assert len(found) == 3
    assert any("gave back a token" in r.getMessage() for r in caplog.records)


async def test_the_package_has_no_other_token_loop() -> None:
    # One paginator: no module but _transport/pagination.py sends a token read from an answer.
    offenders = []
    package = ROOT / "aws_batch_async"
    for path in sorted(package.rglob("*.py")):
        if path == package / "_transport" / "pagination.py" or "testing" in path.parts:
            continue  # the paginator itself; testing/ answers tokens (AWS's side), never follows
        text = path.read_text()
        if re.search(r"\[\s*\"nextToken\"\s*\]\s*=|nextToken=token", text):
            offenders.append(str(path.relative_to(package)))
    assert offenders == []


# ---------------------------------------------------------------------------------------------
# The model, the client's method names, the docs' table


def test_paged_operations_are_botocores_paginators(model: Any) -> None:
    class Meta:
        service_model = model

    class Client:
        meta = Meta()

    paginators = create_loader().load_service_model("batch", "paginators-1")["pagination"]
    paged = {name for name in model.operation_names if is_paginated(Client(), name)}
    assert paged == set(paginators)
    assert all(p["input_token"] == p["output_token"] == "nextToken" for p in paginators.values())
    assert len(paged) == 10


def test_the_clients_method_names_are_botocores(model: Any) -> None:
    # Clients.call turns the AWS name into the client's method name itself.
    assert {_snake(name) for name in model.operation_names} == {
        xform_name(name) for name in model.operation_names
    }
    assert all(_snake(name) == xform_name(name) for name in model.operation_names)


ROW = re.compile(
    r"^\| `(?P<op>\w+)` \| (?P<area>[a-z ]+) \| (?P<paged>yes|no) \| (?P<typed>.+) \|$"
)


def test_the_docs_table_lists_every_operation(model: Any) -> None:
    page = (ROOT / "docs" / "operations.md").read_text()
    rows = {m["op"]: m for m in map(ROW.match, page.splitlines()) if m is not None}
    assert sorted(rows) == sorted(model.operation_names)
    assert len(rows) == len(model.operation_names) == 48
    paginators = create_loader().load_service_model("batch", "paginators-1")["pagination"]
    typed_count = 0
    for name, row in rows.items():
        assert (row["paged"] == "yes") == (name in paginators), name
        if row["typed"] == "—":
            continue
        typed_count += 1
        methods = re.findall(r"`(\w+)`", row["typed"])
        assert methods, name
        for method in methods:
            assert callable(getattr(BatchService, method, None)), method
    via_call = len(rows) - typed_count
    assert (typed_count, via_call) == (13, 35)
    assert f"**{typed_count} typed / {via_call} via `call`**" in page
    untyped_paged = sum(1 for n, r in rows.items() if r["typed"] == "—" and n in paginators)
    assert untyped_paged == 6
    assert "6 have no typed method" in page


def test_the_proxy_names_every_operation(model: Any) -> None:
    from aiohttp.test_utils import make_mocked_request

    from aws_batch_async.testing._proxy.call_log import operation_of

    for name in model.operation_names:
        http = model.operation_model(name).http
        path = http["requestUri"].replace("{resourceArn}", "arn%3Aaws%3Abatch%3Aqueue")
        assert operation_of(make_mocked_request(http["method"], path)) == name
