"""Any AWS Batch operation by name: what ``BatchService.call`` and ``BatchService.paginate`` check.

The typed methods cover what most programs do; every other operation of botocore's model
(scheduling policies, quota shares, consumable resources, service environments, tags, creating
and updating compute environments and queues, service jobs...) is reachable by its name through
the service's one pooled client, with its error tree, retries and logging. The names and shapes
come from the open client's own model (``client.meta``): already in memory, nothing is read
from disk. ``docs/operations.md`` lists the operations and which of them have typed methods.
"""

from __future__ import annotations

import difflib
from typing import Any

from botocore.validate import ParamValidator

__all__ = ["check_params", "is_paginated", "resolve_operation"]

#: The token members of a paged Batch operation (its request's and its answer's).
TOKEN = "nextToken"


def resolve_operation(client: Any, name: object) -> str:
    """The AWS name of an operation given by its AWS name or by botocore's snake_case name.

    Args:
        client: An open aiobotocore Batch client (its ``meta`` is read).
        name: ``"ListSchedulingPolicies"`` or ``"list_scheduling_policies"``.

    Returns:
        The AWS name, e.g. ``"ListSchedulingPolicies"``.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: No such operation in the client's model (the message suggests near names).
    """
    if not isinstance(name, str):
        raise TypeError(f"the operation must be a string, not {type(name).__name__}")
    aws_names: list[str] = list(client.meta.service_model.operation_names)
    if name in aws_names:
        return name
    by_method: dict[str, str] = dict(client.meta.method_to_api_mapping)
    found = by_method.get(name)
    if found is not None:
        return found
    near = difflib.get_close_matches(name, [*aws_names, *by_method], n=3)
    hint = f"; did you mean {' or '.join(near)}?" if near else ""
    raise ValueError(f"AWS Batch has no operation {name!r}{hint}")


def is_paginated(client: Any, operation: str) -> bool:
    """Whether ``operation`` is paged with ``nextToken`` (in its request and in its answer).

    These are the operations of botocore's paginator model for Batch (a test pins that).
    """
    model = client.meta.service_model.operation_model(operation)
    request, answer = model.input_shape, model.output_shape
    return (
        request is not None
        and answer is not None
        and TOKEN in request.members
        and TOKEN in answer.members
    )


def check_params(client: Any, operation: str, params: dict[str, Any]) -> None:
    """Check ``params`` against the operation's input shape, as botocore would, before a call.

    Raises:
        ValueError: botocore's report of the missing, unknown or ill-typed parameters.
    """
    model = client.meta.service_model.operation_model(operation)
    if model.input_shape is None:
        if params:
            raise ValueError(f"{operation} takes no parameters")
        return
    report = ParamValidator().validate(params, model.input_shape)
    if report.has_errors():
        raise ValueError(f"{operation}: {report.generate_report()}")
