"""SubmitJob's parameters, built from a :class:`JobRequest` and the service's configuration.

This is the submit path's half of a request: the model holds what the caller asked for, and
this module turns it into the botocore keyword arguments, with the config's defaults for what
the request leaves unset and a generated job name when it has none.
"""

from __future__ import annotations

import uuid
from typing import Any

from .._config import BatchConfig
from .._errors import ConfigurationError
from .._models.kind_overrides import kind_overrides
from .._models.limits import GENERATED_SUFFIX_LEN, check_submit_size
from .._models.requests import JobRequest
from .definition_cache import DefinitionInfo, JobKind

__all__ = ["generate_job_name", "submit_params"]


def generate_job_name(base: str | None) -> str:
    """Return ``<base or "job">-<12 hex characters>``: valid for AWS and unique per call."""
    return f"{base or 'job'}-{uuid.uuid4().hex[:GENERATED_SUFFIX_LEN]}"


def job_kind(request: JobRequest, config: BatchConfig) -> JobKind | None:
    """The kind given without a lookup: the request's, else the config's, else ``None``."""
    return request.kind or config.job_definition_kind


def submit_params(
    request: JobRequest, config: BatchConfig, info: DefinitionInfo | None = None
) -> dict[str, Any]:
    """Build SubmitJob's parameters, with the config's defaults for what is unset.

    A missing ``job_name`` is generated here, uniquely per call. The kind-neutral fields go to
    the override of the job's kind (``_models/kind_overrides.py``).

    Args:
        request: The job.
        config: The service's configuration (queue, definition, base name, retries).
        info: What the service learned of the job definition; ``None`` when the kind was
            given (``JobRequest.kind``, ``BatchConfig.job_definition_kind``) or for a
            container job.

    Returns:
        The keyword arguments for botocore's ``submit_job``.

    Raises:
        ConfigurationError: Neither the request nor the config names a queue or definition.
        ValueError: A field does not apply to the job's kind, or breaks AWS's rules for it
            (Fargate's vCPU/memory pairs, node ranges, unknown container...), or the request
            exceeds AWS's size limits (30 KiB per SubmitJob, with the idempotency token's
            tag when ``BatchConfig.idempotent_submit`` is on; 8,192 characters per ECS
            override).
    """
    job_queue = request.job_queue or config.job_queue
    job_definition = request.job_definition or config.job_definition
    if job_queue is None:
        raise ConfigurationError("no job queue: set BatchConfig.job_queue or JobRequest.job_queue")
    if job_definition is None:
        raise ConfigurationError(
            "no job definition: set BatchConfig.job_definition or JobRequest.job_definition"
        )
    if info is None:
        info = DefinitionInfo(kind=job_kind(request, config) or JobKind.CONTAINER)
    elif request.kind is not None and request.kind is not info.kind:
        info = DefinitionInfo(kind=request.kind)
    params: dict[str, Any] = {
        "jobName": request.job_name or generate_job_name(config.job_base_name),
        "jobQueue": job_queue,
        "jobDefinition": job_definition,
    }
    params.update(kind_overrides(request, info))
    params.update(_shape_params(request))
    retry = _retry_strategy(request, config)
    if retry:
        params["retryStrategy"] = retry
    params.update(_tagging_and_scheduling_params(request))
    check_submit_size(params, token=config.idempotent_submit)
    return params


def _shape_params(request: JobRequest) -> dict[str, Any]:
    """Resources, parameters, array size, dependencies and timeout: those the request sets."""
    params: dict[str, Any] = {}
    if request.consumable_resources:
        params["consumableResourcePropertiesOverride"] = {
            "consumableResourceList": [
                {"consumableResource": name, "quantity": quantity}
                for name, quantity in request.consumable_resources.items()
            ]
        }
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
    return params


def _retry_strategy(request: JobRequest, config: BatchConfig) -> dict[str, Any]:
    """The ``retryStrategy``: the request's attempts (else the config's) and exit rules."""
    attempts = request.retry_attempts
    if attempts is None:
        attempts = config.retry_attempts
    retry: dict[str, Any] = {}
    if attempts is not None:
        retry["attempts"] = attempts
    if request.evaluate_on_exit:
        retry["evaluateOnExit"] = [
            rule.model_dump(by_alias=True, exclude_none=True) for rule in request.evaluate_on_exit
        ]
    return retry


def _tagging_and_scheduling_params(request: JobRequest) -> dict[str, Any]:
    """Tags, their propagation, the scheduling priority and the share: those the request sets."""
    params: dict[str, Any] = {}
    if request.tags:
        params["tags"] = dict(request.tags)
    if request.propagate_tags is not None:
        params["propagateTags"] = request.propagate_tags
    if request.scheduling_priority is not None:
        params["schedulingPriorityOverride"] = request.scheduling_priority
    if request.share_identifier is not None:
        params["shareIdentifier"] = request.share_identifier
    return params
