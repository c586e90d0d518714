"""The one paginator: every token-paged listing of the package goes through :func:`pages`.

AWS pages a listing with a token: each answer's ``nextToken`` is sent back to get the next
page, until an answer has none. :func:`pages` follows it for any operation (ListJobs, the
Describe* reads, the job-definition lookup, the submit path's lookup, ``BatchService.paginate``
and CloudWatch Logs' GetLogEvents, whose answer names it ``nextForwardToken``).

The repeated-token guard: an answer that gives back a token this listing has already sent means
the endpoint is going round in circles (an emulator's bug, a proxy replaying answers). Following
it would never end, so the listing ends there, with a WARNING. GetLogEvents is the one API whose
last page repeats the token sent (a stream's end is a forward token equal to the one sent): with
``end_on_repeat=True`` that is the ordinary end, said nothing about.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from .._types import CallFn

__all__ = ["CallFn", "pages"]


_LOGGER = logging.getLogger("aws_batch_async")


async def pages(
    call: CallFn,
    operation: str,
    params: Mapping[str, Any],
    *,
    logger: logging.Logger | None = None,
    input_token: str = "nextToken",
    output_token: str = "nextToken",
    start_token: str | None = None,
    end_on_repeat: bool = False,
) -> AsyncGenerator[dict[str, Any], None]:
    """Yield every page of ``operation``, fetching one only when the previous one is used up.

    Args:
        call: Calls the operation (``call(operation, **params)``).
        operation: The operation's AWS name, e.g. ``"ListJobs"``.
        params: The request's parameters, without the token.
        logger: Where to log (DEBUG per page, WARNING on a repeated token); parameter values
            are never logged.
        input_token: The request's token parameter.
        output_token: The answer's token member.
        start_token: The token of the first request (resuming a listing), or ``None``.
        end_on_repeat: An answer giving back the token just sent is the listing's ordinary
            end (GetLogEvents), not a repeated token worth a warning.

    Returns:
        An async generator of the answers, as ``call`` returns them.

    Raises:
        BatchError: What ``call`` raises.
    """
    log = logger if logger is not None else _LOGGER
    token = start_token
    sent: set[str] = set() if token is None else {token}
    number = 0
    while True:
        request = dict(params)
        if token is not None:
            request[input_token] = token
        number += 1
        log.debug("%s page %d", operation, number)
        page = await call(operation, **request)
        yield page
        following = page.get(output_token)
        if not isinstance(following, str) or not following:
            return
        if following in sent:
            if not (end_on_repeat and following == token):
                log.warning(
                    "%s gave back a token it had already given (page %d): stopping this "
                    "listing there instead of going round in circles",
                    operation,
                    number,
                )
            return
        sent.add(following)
        token = following
