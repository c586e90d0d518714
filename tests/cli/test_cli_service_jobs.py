"""``aws-batch-async service-jobs ls|status|stop``, run for real against LocalBatch's emulation."""

from __future__ import annotations

from aws_batch_async import BatchConfig, BatchService, ServiceJobRequest
from aws_batch_async.testing import BatchProxy

from .test_cli import env, moto_cli, parse_json, run_cli, run_cli_many

__all__ = ["env", "moto_cli"]  # fixtures shared with test_cli


async def _submit(config: BatchConfig, *names: str) -> list[str]:
    async with BatchService(config) as batch:
        return [
            (
                await batch.submit_service_job(
                    ServiceJobRequest(job_name=name, service_request_payload='{"a":1}')
                )
            ).job_id
            for name in names
        ]


async def test_ls_status_and_stop(
    config: BatchConfig, proxy: BatchProxy, moto_cli: list[str], env: dict[str, str]
) -> None:
    proxy.service_jobs.step = 60.0  # they stay SUBMITTED
    first, second, third = await _submit(config, "cli-a", "cli-b", "other")
    listed, table, shown = run_cli_many(
        ["service-jobs", "ls", "--json", *moto_cli],
        ["service-jobs", "ls", "--name", "cli-", *moto_cli],
        ["service-jobs", "status", first, "--json", *moto_cli],
        env=env,
    )
    assert {job["job_id"] for job in parse_json(listed)} == {first, second, third}
    assert table.returncode == 0, table.stderr
    assert "cli-a" in table.stdout
    assert "cli-b" in table.stdout
    assert "other" not in table.stdout
    detail = parse_json(shown)
    assert (detail["job_id"], detail["status"]) == (first, "SUBMITTED")
    assert "service_request_payload" not in detail

    stopped = run_cli(
        "service-jobs", "stop", first, second, "-r", "no", "--json", *moto_cli, env=env
    )
    assert [item["action"] for item in parse_json(stopped)] == ["terminate", "terminate"]
    assert proxy.count("TerminateServiceJobs") == 1
    again = run_cli("service-jobs", "stop", first, *moto_cli, env=env)
    assert again.returncode == 0, again.stderr
    assert "already FAILED" in again.stdout
    failed = run_cli("service-jobs", "ls", "--status", "failed", "--json", *moto_cli, env=env)
    assert {job["job_id"] for job in parse_json(failed)} == {first, second}


def test_status_of_unknown_job_is_one_line(moto_cli: list[str], env: dict[str, str]) -> None:
    result = run_cli("service-jobs", "status", "nope", *moto_cli, env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "nope" in lines[0]
    assert "Traceback" not in result.stderr


def test_help_lists_the_three_commands(env: dict[str, str]) -> None:
    result = run_cli("service-jobs", "--help", env=env)
    assert result.returncode == 0, result.stderr
    for command in ("ls", "status", "stop"):
        assert f" {command} " in result.stdout, command
