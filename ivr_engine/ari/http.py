"""ARI's REST requests over kept-alive HTTP/1.1 connections of our own: one request, one answer.

The service sends some 18 REST requests a call (answer, a play per prompt, barge-in stops, hangup).
Through aiohttp's ``ClientSession`` each cost about 190 us of the event loop's CPU (URL objects, header
multidicts, cookie jar, tracing, response objects); written and read here directly, about 45 us. The
WebSocket and everything else still go through aiohttp.

:class:`AriHttp` keeps up to ``limit`` connections to ARI's host (further requests wait for one), reuses
an idle one, newest first, and drops one the server closed or that answered ``Connection: close``. An
answer is framed by ``Content-Length``, chunked transfer coding, or the end of the connection.

Failures: a refused or failed connect raises ``OSError``; a connection that closes before the whole
answer came raises :class:`ConnectionDropped` (the client sends the request again, a bounded number of
times: Asterisk drops its connections, e.g. with the events WebSocket, and closes any connection beyond
its HTTP ``sessionlimit`` at once); the caller bounds the time
(a request cut by a timeout takes its connection with it). The caller maps these into ``AriError``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import quote, urlsplit

__all__ = ["AriHttp", "ConnectionDropped", "HttpAnswer", "encode_target"]

_SAFE_PATH = "/:@!$'()*,;=-._~"
_SAFE_VALUE = ":@!$'()*,;/-._~"  # '+', '&', '=' and '%' are escaped: they mean something in a query


class ConnectionDropped(ConnectionError):
    """The connection closed (reset, or closed by the server) before the whole answer came."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes


def encode_target(path: str, query: Mapping[str, str] | None) -> str:
    """``path?k=v&...`` with the path and values percent-encoded as a URL needs them."""
    target = quote(path, safe=_SAFE_PATH)
    if query:
        pairs = (f"{quote(k, safe='')}={quote(v, safe=_SAFE_VALUE)}" for k, v in query.items())
        target += "?" + "&".join(pairs)
    return target


class _Connection(asyncio.Protocol):
    """One connection; at most one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.open = False
        self._buffer = bytearray()
        self._waiter: asyncio.Future[HttpAnswer] | None = None
        self._keep = True

    # -- asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses
        self.open = True

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiter is not None and not self._waiter.done():
            self._parse(final=False)

    def eof_received(self) -> bool | None:
        return False  # close our side too: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        if self._waiter is not None and not self._waiter.done() and not self._parse(final=True):
            self._waiter.set_exception(ConnectionDropped(str(exc) if exc else "closed by the server"))

    # -- requests ---------------------------------------------------------------------------------

    def send(self, data: bytes, waiter: asyncio.Future[HttpAnswer]) -> None:
        assert self.transport is not None
        self._buffer.clear()
        self._waiter = waiter
        self._keep = True
        self.transport.write(data)

    @property
    def reusable(self) -> bool:
        return self.open and self._keep and not self._buffer

    def abort(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.abort()

    def _parse(self, *, final: bool) -> bool:
        """Resolve the waiter if the buffer holds a whole answer (``final``: the connection ended)."""
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        assert self._waiter is not None
        lines = bytes(buffer[:end]).split(b"\r\n")
        try:
            status = int(lines[0].split(b" ", 2)[1])
        except (IndexError, ValueError):
            self._waiter.set_exception(ConnectionDropped(f"not an HTTP answer: {lines[0][:80]!r}"))
            self.abort()
            return True
        length: int | None = None
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                self._keep = value.strip().lower() != b"close"
        start = end + 4
        if status in (204, 304) or 100 <= status < 200:
            body, rest = b"", start
        elif chunked:
            decoded = _dechunk(buffer, start)
            if decoded is None:
                return False
            body, rest = decoded
        elif length is not None:
            if len(buffer) < start + length:
                return False
            body, rest = bytes(buffer[start : start + length]), start + length
        else:  # framed by the end of the connection
            if not final:
                return False
            body, rest, self._keep = bytes(buffer[start:]), len(buffer), False
        del buffer[:rest]
        self._waiter.set_result(HttpAnswer(status, body))
        return True


def _dechunk(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    """The body of a chunked answer at ``start`` and where it ends, or None while incomplete."""
    parts: list[bytes] = []
    at = start
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(bytes(buffer[at:line_end]).split(b";", 1)[0], 16)
        at = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", at - 2)
            return (b"".join(parts), trailer_end + 4) if trailer_end >= 0 else None
        if len(buffer) < at + size + 2:
            return None
        parts.append(bytes(buffer[at : at + size]))
        at += size + 2


class AriHttp:
    """Requests to ARI's host over at most ``limit`` kept-alive connections."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        limit: int = 100,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """``tls``: the context for an ``https`` URL (default: Python's default context, made now)."""
        parts = urlsplit(base_url)
        self._ssl = (tls or ssl.create_default_context()) if parts.scheme == "https" else None
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._ssl else 80)
        self._prefix = parts.path.rstrip("/")
        host = f"[{self._host}]" if ":" in self._host else self._host
        lines = [f"Host: {host}:{self._port}", *(f"{k}: {v}" for k, v in headers.items())]
        self._head = "\r\n".join(lines) + "\r\n"
        self._idle: list[_Connection] = []
        self._limit = asyncio.Semaphore(limit)
        self._closed = False

    async def request(
        self, method: str, target: str, body: bytes | None = None, *, fresh: bool = False
    ) -> HttpAnswer:
        """One request for ``target`` (path and query under the base URL); ``fresh``: on a new connection."""
        head = f"{method} {self._prefix}{target} HTTP/1.1\r\n{self._head}"
        if body is None:
            data = (head + ("Content-Length: 0\r\n\r\n" if method in ("POST", "PUT") else "\r\n")).encode()
        else:
            typed = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            data = (head + typed).encode() + body
        async with self._limit:
            connection = None if fresh else self._reuse()
            if connection is None:
                connection = await self._connect()
            waiter: asyncio.Future[HttpAnswer] = asyncio.get_running_loop().create_future()
            connection.send(data, waiter)
            try:
                answer = await waiter
            except BaseException:  # dropped, timed out or cancelled: the connection is in an unknown state
                connection.abort()
                raise
            if connection.reusable and not self._closed:
                self._idle.append(connection)
            else:
                connection.abort()
            return answer

    def _reuse(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if connection.open:
                return connection
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _transport, connection = await loop.create_connection(
            _Connection, self._host, self._port, ssl=self._ssl
        )
        return connection

    def close(self) -> None:
        """Close the idle connections; requests still running close theirs when they end."""
        self._closed = True
        for connection in self._idle:
            connection.abort()
        self._idle.clear()
