"""ARI's REST transport (``ari.http``): kept-alive connections, every way an HTTP answer is framed."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

import pytest

from ivr_engine import eventloop
from ivr_engine.ari.http import AriHttp, ConnectionDropped, encode_target

from .conftest import SelfSigned

Answer = Callable[[bytes], bytes]


class _Server:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []
        self.writers: list[asyncio.StreamWriter] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                self.requests.append(request)
                reply = self.answer(request)
                if not reply:
                    writer.transport.abort()
                    return
                writer.write(reply)
                await writer.drain()
                framed = b"Content-Length" in reply or b"chunked" in reply
                if b"Connection: close" in reply or not framed:
                    writer.close()
                    return
        except asyncio.IncompleteReadError:
            writer.close()


class Start(Protocol):
    def __call__(
        self, answer: Answer, *, tls: ssl.SSLContext | None = None
    ) -> Awaitable[tuple[_Server, AriHttp]]:
        """A fake ARI host answering with ``answer`` (over TLS with ``tls``), and a client of it."""


@pytest.fixture
async def server() -> AsyncIterator[Start]:
    made: list[tuple[asyncio.Server, AriHttp, _Server]] = []

    async def start(answer: Answer, *, tls: ssl.SSLContext | None = None) -> tuple[_Server, AriHttp]:
        fake = _Server(answer)
        listening = await asyncio.start_server(fake.serve, "127.0.0.1", 0, ssl=tls)
        port = listening.sockets[0].getsockname()[1]
        scheme = "http" if tls is None else "https"
        http = AriHttp(f"{scheme}://127.0.0.1:{port}/ari", {"Authorization": "Basic x"})
        made.append((listening, http, fake))
        return fake, http

    yield start
    for listening, http, fake in made:
        http.close()
        listening.close()
        await listening.wait_closed()
        for writer in fake.writers:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def _json(body: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    return head + body


async def test_requests_share_one_kept_alive_connection_and_carry_path_query_headers(server: Start) -> None:
    fake, http = await server(lambda _request: _json(b'{"ok": true}'))
    for _ in range(3):
        target = encode_target("/channels/c1/play/p1", {"media": "sound:a,sound:b"})
        answer = await http.request("POST", target)
        assert (answer.status, answer.body) == (200, b'{"ok": true}')
    assert fake.connections == 1
    first = fake.requests[0].decode()
    assert first.startswith("POST /ari/channels/c1/play/p1?media=sound:a,sound:b HTTP/1.1\r\n")
    assert "Authorization: Basic x\r\n" in first
    assert "Content-Length: 0\r\n" in first


def test_query_values_escape_what_means_something_in_a_query() -> None:
    assert encode_target("/x", {"value": "a+b&c=d %"}) == "/x?value=a%2Bb%26c%3Dd%20%25"


async def test_chunked_and_connection_framed_answers_are_read_whole(server: Start) -> None:
    chunks = b'4\r\n{"a"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\n\r\n'
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
    _fake, http = await server(lambda _request: chunked)
    assert (await http.request("GET", "/chunked")).body == b'{"a": 1}'
    _fake, by_close = await server(lambda _request: b"HTTP/1.0 200 OK\r\n\r\n[1, 2]")
    assert (await by_close.request("GET", "/closed")).body == b"[1, 2]"


async def test_connection_close_is_not_reused_and_a_drop_is_reported(server: Start) -> None:
    replies = iter([b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", _json(b"{}"), b""])
    fake, http = await server(lambda _request: next(replies))
    assert (await http.request("DELETE", "/channels/c1")).status == 204
    assert (await http.request("GET", "/channels/c1")).status == 200
    assert fake.connections == 2
    with pytest.raises(ConnectionDropped):
        await http.request("GET", "/channels/c1")


def test_the_service_loop_uvloop_carries_requests_too() -> None:
    async def main() -> tuple[int, int]:
        fake = _Server(lambda _request: _json(b"{}"))
        listening = await asyncio.start_server(fake.serve, "127.0.0.1", 0)
        http = AriHttp(f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}/ari", {})
        try:
            async with asyncio.timeout(5):
                statuses = [(await http.request("GET", "/asterisk/info")).status for _ in range(2)]
            return statuses[-1], fake.connections
        finally:
            http.close()
            listening.close()
            for writer in fake.writers:
                writer.close()

    assert eventloop.run(main(), "uvloop") == (200, 1)


async def test_https_requests_verify_the_server_against_the_trusted_certificates(
    server: Start, self_signed: SelfSigned, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ``https`` ARI URL: requests go over TLS on kept-alive connections, and the server's certificate
    is checked against the system's CAs, or the file ``SSL_CERT_FILE`` names (how an operator trusts a
    centre's own CA or a self-signed Asterisk)."""
    monkeypatch.setenv("SSL_CERT_FILE", self_signed.cert)
    fake, http = await server(lambda _request: _json(b'{"system": "up"}'), tls=self_signed.server)
    async with asyncio.timeout(10):
        answers = [await http.request("GET", "/asterisk/info") for _ in range(3)]
    assert [(a.status, a.body) for a in answers] == [(200, b'{"system": "up"}')] * 3
    assert fake.connections == 1
    assert fake.requests[0].startswith(b"GET /ari/asterisk/info HTTP/1.1\r\n")


async def test_https_refuses_a_server_whose_certificate_is_not_trusted(
    server: Start, self_signed: SelfSigned, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    fake, http = await server(lambda _request: _json(b"{}"), tls=self_signed.server)
    async with asyncio.timeout(10):
        with pytest.raises(ssl.SSLCertVerificationError):
            await http.request("GET", "/asterisk/info")
    assert fake.requests == []
