"""SubmitJob's parameters, built from a :class:`JobRequest` and the service's configuration.

This is the submit path's half of a request: the model holds what the caller asked for, and
this module turns it into the botocore keyword arguments, with the config's defaults for what
the request leaves unset and a generated job name when it has none.
"""

from __future__ import annotations

import uuid
from typing import Any

from ._config import BatchConfig
from ._errors import ConfigurationError
from ._limits import GENERATED_SUFFIX_LEN
from ._requests import JobRequest

__all__ = ["generate_job_name", "submit_params"]


def generate_job_name(base: str | None) -> str:
    """Return ``<base or "job">-<12 hex characters>``: valid for AWS and unique per call."""
    return f"{base or 'job'}-{uuid.uuid4().hex[:GENERATED_SUFFIX_LEN]}"


def submit_params(request: JobRequest, config: BatchConfig) -> dict[str, Any]:
    """Build SubmitJob's parameters, with the config's defaults for what is unset.

    A missing ``job_name`` is generated here, uniquely per call.

    Args:
        request: The job.
        config: The service's configuration (queue, definition, base name, retries).

    Returns:
        The keyword arguments for botocore's ``submit_job``.

    Raises:
        ConfigurationError: Neither the request nor the config names a queue or definition.
    """
    job_queue = request.job_queue or config.job_queue
    job_definition = request.job_definition or config.job_definition
    if job_queue is None:
        raise ConfigurationError("no job queue: set BatchConfig.job_queue or JobRequest.job_queue")
    if job_definition is None:
        raise ConfigurationError(
            "no job definition: set BatchConfig.job_definition or JobRequest.job_definition"
        )
    params: dict[str, Any] = {
        "jobName": request.job_name or generate_job_name(config.job_base_name),
        "jobQueue": job_queue,
        "jobDefinition": job_definition,
    }
    overrides: dict[str, Any] = {}
    if request.command is not None:
        overrides["command"] = list(request.command)
    if request.env_vars:
        overrides["environment"] = [{"name": k, "value": v} for k, v in request.env_vars.items()]
    resources = [
        {"type": kind, "value": _number(value)}
        for kind, value in (
            ("VCPU", request.vcpus),
            ("MEMORY", request.memory_mib),
            ("GPU", request.gpus),
        )
        if value is not None
    ]
    if resources:
        overrides["resourceRequirements"] = resources
    if request.instance_type is not None:
        overrides["instanceType"] = request.instance_type
    if overrides:
        params["containerOverrides"] = overrides
    if request.parameters:
        params["parameters"] = dict(request.parameters)
    if request.array_size is not None:
        params["arrayProperties"] = {"size": request.array_size}
    if request.depends_on:
        params["dependsOn"] = [
            dep.model_dump(by_alias=True, exclude_none=True) for dep in request.depends_on
        ]
    if request.timeout_seconds is not None:
        params["timeout"] = {"attemptDurationSeconds": request.timeout_seconds}
    attempts = (
        request.retry_attempts if request.retry_attempts is not None else config.retry_attempts
    )
    retry: dict[str, Any] = {}
    if attempts is not None:
        retry["attempts"] = attempts
    if request.evaluate_on_exit:
        retry["evaluateOnExit"] = [
            rule.model_dump(by_alias=True, exclude_none=True) for rule in request.evaluate_on_exit
        ]
    if retry:
        params["retryStrategy"] = retry
    if request.tags:
        params["tags"] = dict(request.tags)
    if request.propagate_tags is not None:
        params["propagateTags"] = request.propagate_tags
    if request.scheduling_priority is not None:
        params["schedulingPriorityOverride"] = request.scheduling_priority
    if request.share_identifier is not None:
        params["shareIdentifier"] = request.share_identifier
    return params


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
