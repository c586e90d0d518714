"""AWS Signature Version 4 for the fast path: botocore's rules, with the derived key cached.

botocore's ``SigV4Auth`` derives the signing key (four HMACs) and rebuilds the canonical
request through ``HTTPHeaders`` and ``urlsplit`` on every request. :class:`SigV4Signer` signs
the same canonical request (``tests/transport/test_fast_path.py`` compares it with botocore's,
byte for byte) but keeps what does not change between requests: the key per secret and day, the
timestamp per second, the canonical URI, query and host of each operation.

The rules themselves stay botocore's: the unsigned-header list is
``botocore.auth.SIGNED_HEADERS_BLACKLIST`` of the installed version, and the canonical URI and
host come from ``SigV4Auth`` itself (see :func:`request_scope`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from botocore.auth import SIGNED_HEADERS_BLACKLIST, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import quote, urlsplit
from botocore.utils import normalize_url_path

__all__ = ["RequestScope", "SigV4Signer", "request_scope"]

_UNSIGNED = frozenset(SIGNED_HEADERS_BLACKLIST)
_ALGORITHM = "AWS4-HMAC-SHA256"


class RequestScope:
    """What signing needs of one operation's requests that never changes: URI, query, host."""

    __slots__ = ("canonical_query", "canonical_uri", "host")

    def __init__(self, canonical_uri: str, canonical_query: str, host: str) -> None:
        self.canonical_uri = canonical_uri
        self.canonical_query = canonical_query
        self.host = host


def request_scope(method: str, url: str) -> RequestScope:
    """The canonical URI, query string and host of ``url``, computed by botocore's ``SigV4Auth``.

    Args:
        method: The HTTP method.
        url: The request's full URL as botocore resolved it.

    Returns:
        The operation's :class:`RequestScope`.
    """
    auth = SigV4Auth(None, "", "")  # type: ignore[arg-type]  # no signing: URI and host only
    request = AWSRequest(method=method, url=url, headers={})
    path = urlsplit(url).path
    normalize = getattr(auth, "_normalize_url_path", None)
    return RequestScope(
        canonical_uri=normalize(path)
        if normalize is not None
        else quote(normalize_url_path(path), safe="/~"),
        canonical_query=auth.canonical_query_string(request),
        host=auth.headers_to_sign(request)["host"],
    )


class SigV4Signer:
    """Signs requests of one service and region with Signature Version 4.

    Args:
        region: The signing region (the credential scope's region).
        service: The signing name (``"batch"``).
        clock: Epoch seconds; injectable so tests can sign at a fixed instant.
    """

    def __init__(self, region: str, service: str, clock: Callable[[], float] = time.time) -> None:
        self.region = region
        self.service = service
        self.clock = clock
        self._scope_tail = f"/{region}/{service}/aws4_request"
        self._keys: dict[tuple[str, str], bytes] = {}
        self._second = -1
        self._stamp = ""

    def timestamp(self) -> str:
        """``YYYYMMDDTHHMMSSZ`` of the clock, formatted once per second."""
        now = int(self.clock())
        if now != self._second:
            self._stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
            self._second = now
        return self._stamp

    def sign(
        self,
        method: str,
        scope: RequestScope,
        headers: dict[str, str],
        body: bytes,
        credentials: Any,
    ) -> None:
        """Add ``X-Amz-Date``, ``X-Amz-Security-Token`` (with a token) and ``Authorization``.

        Args:
            method: The HTTP method.
            scope: The operation's canonical URI, query and host.
            headers: The request's headers so far (changed in place).
            body: The request body.
            credentials: botocore frozen credentials (``access_key``, ``secret_key``,
                ``token``).
        """
        stamp = self.timestamp()
        day = stamp[:8]
        headers["X-Amz-Date"] = stamp
        token = credentials.token
        if token:
            headers["X-Amz-Security-Token"] = token
        signed: dict[str, str] = {}
        for name, value in headers.items():
            lower = name.lower()
            if lower not in _UNSIGNED:
                text = " ".join(value.split())
                signed[lower] = f"{signed[lower]},{text}" if lower in signed else text
        if "host" not in signed:
            signed["host"] = scope.host
        names = sorted(signed)
        signed_names = ";".join(names)
        canonical = "\n".join(
            (
                method,
                scope.canonical_uri,
                scope.canonical_query,
                "".join(f"{n}:{signed[n]}\n" for n in names),
                signed_names,
                hashlib.sha256(body).hexdigest(),
            )
        )
        credential_scope = day + self._scope_tail
        to_sign = "\n".join(
            (_ALGORITHM, stamp, credential_scope, hashlib.sha256(canonical.encode()).hexdigest())
        )
        signature = hmac.new(
            self._key(credentials.secret_key, day), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        headers["Authorization"] = (
            f"{_ALGORITHM} Credential={credentials.access_key}/{credential_scope}, "
            f"SignedHeaders={signed_names}, Signature={signature}"
        )

    def _key(self, secret: str, day: str) -> bytes:
        key = self._keys.get((secret, day))
        if key is None:
            if len(self._keys) > 8:  # rotated secrets and past days
                self._keys.clear()
            key = hmac.new(f"AWS4{secret}".encode(), day.encode(), hashlib.sha256).digest()
            for part in (self.region, self.service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._keys[(secret, day)] = key
        return key
