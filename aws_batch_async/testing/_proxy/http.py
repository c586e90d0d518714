"""A minimal, lenient HTTP/1.1 client for the proxy's calls to moto in asyncio's debug mode.

Under ``python -X dev`` or ``PYTHONASYNCIODEBUG=1`` aiohttp's client parses responses
strictly and refuses one with two ``Server`` headers, which moto's own servers send
(werkzeug's and moto's ``amazon.com``). :class:`~aws_batch_async.testing.MotoServer` sends one,
but a :class:`~aws_batch_async.testing.BatchProxy` may sit in front of any moto server; in debug
mode it forwards with :func:`request` instead, which keeps the last of repeated headers. One
connection per request, as moto's werkzeug server closes each one anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp.helpers

__all__ = ["STRICT_CLIENT", "request"]

#: aiohttp's client parses strictly (asyncio's debug mode), as aiohttp decided at its import.
STRICT_CLIENT: bool = bool(
    getattr(
        aiohttp.helpers,
        "DEBUG",
        sys.flags.dev_mode
        or (not sys.flags.ignore_environment and os.environ.get("PYTHONASYNCIODEBUG")),
    )
)


async def request(
    method: str, url: str, headers: Mapping[str, str], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    """Send one request on a new connection and read the whole response.

    Args:
        method: The HTTP method.
        url: ``http://host:port/path?query``.
        headers: Request headers (no hop-by-hop ones: ``Host``, ``Content-Length`` and
            ``Connection: close`` are set here).
        body: The request body.

    Returns:
        The status, the response headers (the last of repeated ones) and the body.

    Raises:
        OSError: The connection failed.
        ValueError: The response is not HTTP/1.x.
    """
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [
            f"{method} {target} HTTP/1.1",
            f"Host: {parts.netloc}",
            f"Content-Length: {len(body)}",
            "Connection: close",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        status_line = (await reader.readline()).decode("latin-1").split()
        if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
            raise ValueError(f"not an HTTP/1.x response: {' '.join(status_line)[:100]!r}")
        status = int(status_line[1])
        answer: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            answer[name.strip()] = value.strip()
        lower = {name.lower(): value for name, value in answer.items()}
        if "chunked" in lower.get("transfer-encoding", "").lower():
            payload = await _chunked(reader)
        elif "content-length" in lower:
            payload = await reader.readexactly(int(lower["content-length"]))
        elif method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            payload = b""
        else:
            payload = await reader.read()
        return status, answer, payload
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    payload = bytearray()
    while True:
        size_line = await reader.readline()
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return bytes(payload)
        payload += await reader.readexactly(size)
        await reader.readline()
