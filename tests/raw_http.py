"""HTTP/1.1 over a bare TCP connection, for requests an HTTP client refuses to send (bytes outside ASCII
in a header, a body in two TCP segments with a pause between them, no ``Host`` at all)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["RawReply", "raw_request", "send_raw"]


@dataclass(frozen=True)
class RawReply:
    status: int
    headers: dict[str, str]
    """Header names lowercased; the last value of a repeated header."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    method: str,
    path: str,
    *,
    host: bytes | None,
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes = b"",
    version: str = "1.1",
) -> bytes:
    """The bytes of one request that closes the connection after the reply (``host=None``: no Host)."""
    lines = [f"{method} {path} HTTP/{version}".encode()]
    if host is not None:
        lines.append(b"Host: " + host)
    lines += [b"Connection: close", f"Content-Length: {len(body)}".encode()]
    lines += [name + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


READ_TIMEOUT_S = 10.0


async def send_raw(port: int, data: bytes, *, split_at: int | None = None, pause: float = 0.2) -> RawReply:
    """Send ``data`` to 127.0.0.1:``port`` (when ``split_at`` is given: that many bytes, a ``pause``, the
    rest, so they leave as separate TCP segments) and read the reply to the end."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        if split_at is None:
            writer.write(data)
        else:
            writer.write(data[:split_at])
            await writer.drain()
            await asyncio.sleep(pause)
            writer.write(data[split_at:])
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), READ_TIMEOUT_S)
    finally:
        writer.close()
        await writer.wait_closed()
    return _parse(raw)


def _parse(raw: bytes) -> RawReply:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise AssertionError(f"no HTTP reply, got {raw[:200]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawReply(int(parts[1]), headers, body)
