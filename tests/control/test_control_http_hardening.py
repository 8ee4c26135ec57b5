"""Hostile HTTP on the control API: bodies (encoding, charset, depth, numbers, size, TCP segments),
headers outside ASCII, the Host check (DNS rebinding) and the log of requests aiohttp cannot parse.

Each is a clear 4xx with a JSON error, the ACD untouched, and no ERROR in the log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ivr_engine.config import Settings, load_settings
from ivr_engine.control import make_control_app, start_control_server
from ivr_engine.control.body import MAX_BODY_BYTES, MAX_DEPTH, parse_json_object
from ivr_engine.control.hosts import allowed_hosts
from ivr_engine.control.http_errors import Refusal
from ivr_engine.lab.ports import free_tcp_port
from ivr_engine.screenpop import ScreenPopService
from ivr_engine.storage import Database
from tests.acd_control_fakes import FakeControl
from tests.raw_http import raw_request, send_raw

from .control_fakes import AUTH, TOKEN

PAUSE = "/api/agents/1001/pause"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def no_error_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A client's mistake is never logged as an error (nor with a traceback)."""
    caplog.set_level(logging.DEBUG)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


def _port(client: TestClient) -> int:
    assert client.port is not None
    return client.port


# -- bodies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "status", "needle"),
    [
        ("application/json", b'{"reason": "lunch \xff"}', 400, "not valid UTF-8"),
        ("application/json; charset=bogus", b'{"reason": "lunch"}', 415, "UTF-8"),
        ("application/json; charset=latin-1", b'{"reason": "lunch"}', 415, "UTF-8"),
        ("application/json", b"[" * 8000, 400, f"deeper than {MAX_DEPTH} levels"),
        ("application/json", b'{"reason": ' + b"[" * 40 + b"]" * 40 + b"}", 400, "deeper than"),
        ("application/json", b'{"reason": "lunch", "n": ' + b"9" * 5000 + b"}", 400, "number"),
        ("application/json", b'{"reason": "lunch", "n": 1' + b"0" * 4400 + b".5}", 400, "number"),
        ("application/json", b'{"reason": "lunch", "n": 1e999}', 400, "out of range"),
        ("application/json", b'{"reason": "lunch", "n": NaN}', 400, "NaN is not JSON"),
        ("application/json", b'{"reason": "lunch\\ud800"}', 400, "lone surrogate"),
        ("application/json", b'{"reason": "lunch\\u0000"}', 400, "NUL"),
        ("application/json", b'{"reason": "' + b"x" * MAX_BODY_BYTES + b'"}', 413, "larger than"),
        ("application/x-www-form-urlencoded", b"reason=lunch", 415, "Content-Type: application/json"),
        ("text/plain", b'{"reason": "lunch"}', 415, "Content-Type: application/json"),
    ],
)
async def test_a_hostile_pause_body_is_a_clear_4xx(
    client: TestClient, fake: FakeControl, content_type: str, body: bytes, status: int, needle: str
) -> None:
    await fake.login("1001")
    response = await client.post(PAUSE, headers={**AUTH, "Content-Type": content_type}, data=body)
    assert response.status == status
    assert needle in (await response.json())["error"]
    assert fake.state("1001").value == "ready"


@pytest.mark.parametrize("action", ["login", "logout", "ready", "pause"])
@pytest.mark.parametrize(
    "body", [b"[" * 8000, b'{"x": ' + b"1" * 5000 + b"}", b'{"x": "\xc3\x28"}'],
    ids=["deep", "digits", "utf8"],
)
async def test_every_json_route_reads_its_body_the_same_way(
    client: TestClient, action: str, body: bytes
) -> None:
    response = await client.post(f"/api/agents/1001/{action}", headers={**AUTH, **JSON}, data=body)
    assert response.status == 400
    assert "request body" in (await response.json())["error"]


async def test_a_body_in_two_tcp_segments_is_read_whole(client: TestClient, fake: FakeControl) -> None:
    await fake.login("1001")
    body = json.dumps({"reason": "lunch"}).encode()
    request = raw_request("POST", PAUSE, host=f"127.0.0.1:{_port(client)}".encode(), body=body,
                          headers=[(b"Authorization", f"Bearer {TOKEN}".encode()),
                                   (b"Content-Type", b"application/json")])
    reply = await send_raw(_port(client), request, split_at=len(request) - len(body) // 2)
    assert reply.status == 200, reply.body
    assert reply.json()["pause_reason"] == "lunch"
    assert fake.state("1001").value == "paused"


async def test_a_chunked_body_past_the_cap_is_413(client: TestClient) -> None:
    async def chunks() -> object:
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b" " * 1024

    response = await client.post(PAUSE, headers={**AUTH, **JSON}, data=chunks())
    assert response.status == 413


def test_the_body_parser_keeps_what_is_fine() -> None:
    text = '{"reason": "[[[ not nesting ]]] \\" \\\\", "n": [1, 2.5, -3e2, null, true], "deep": ' + (
        "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)) + "}"
    data = parse_json_object(text.encode())
    assert data["reason"] == '[[[ not nesting ]]] " \\'
    assert data["n"] == [1, 2.5, -300.0, None, True]
    with pytest.raises(Refusal, match="deeper than") as refused:
        parse_json_object(("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)).encode())
    assert refused.value.status == 400


# -- headers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [b"\xff\xfe", TOKEN.encode() + b"\xe9", "tökén".encode()])
async def test_a_token_with_bytes_outside_ascii_is_401(client: TestClient, token: bytes) -> None:
    request = raw_request("GET", "/api/agents", host=f"127.0.0.1:{_port(client)}".encode(),
                          headers=[(b"Authorization", b"Bearer " + token)])
    reply = await send_raw(_port(client), request)
    assert reply.status == 401
    assert reply.json() == {"error": "wrong bearer token"}
    assert reply.headers["www-authenticate"] == "Bearer"


# -- Host (DNS rebinding) -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LocalHost", "localhost.", "[::1]", "[0:0::1]"])
async def test_loopback_names_on_our_port_are_served(client: TestClient, name: str) -> None:
    response = await client.get("/api/agents", headers={**AUTH, "Host": f"{name}:{_port(client)}"})
    assert response.status == 200


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "127.0.0.1.evil.example:{port}", "127.0.0.1:1", "127.0.0.1", "localhost",
             "10.0.0.7:{port}", "[::1:{port}", "127.0.0.1:{port}:{port}"]
)
@pytest.mark.parametrize("path", ["/api/health", "/api/agents", "/nothing"])
async def test_another_host_is_refused_with_421(client: TestClient, host: str, path: str) -> None:
    response = await client.get(path, headers={**AUTH, "Host": host.format(port=_port(client))})
    assert response.status == 421
    assert "does not answer to host" in (await response.json())["error"]


async def test_a_request_without_host_is_400(client: TestClient) -> None:
    reply = await send_raw(_port(client), raw_request("GET", "/api/health", host=None, version="1.0"))
    assert reply.status == 400
    assert reply.json() == {"error": "the request has no Host header"}
    reply = await send_raw(_port(client), raw_request("GET", "/api/health", host=None))  # aiohttp's own
    assert reply.status == 400


async def test_extra_allowed_hosts_by_name_or_exact_port(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    app = make_control_app(FakeControl(), ScreenPopService(database), TOKEN,
                           allowed_hosts=("IVR.lan", "proxy.lan:443"))
    try:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            port = _port(client)
            for host, status in [(f"ivr.lan:{port}", 200), ("ivr.lan:8443", 421), ("proxy.lan:443", 200),
                                 (f"proxy.lan:{port}", 421), (f"localhost:{port}", 200)]:
                assert (await client.get("/api/health", headers={"Host": host})).status == status, host
    finally:
        database.dispose()


def test_allowed_hosts_come_from_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = Settings(http_host="localhost", http_allowed_hosts=" a.lan , b.lan:443,")
    assert allowed_hosts(settings) == ("localhost", "a.lan", "b.lan:443")
    assert allowed_hosts(Settings()) == ("127.0.0.1",)
    monkeypatch.setenv("IVR_HTTP_ALLOWED_HOSTS", "desk.lan")
    (tmp_path / "empty.yaml").write_text("{}\n")
    assert allowed_hosts(load_settings(tmp_path / "empty.yaml")) == ("127.0.0.1", "desk.lan")


# -- what aiohttp itself refuses ------------------------------------------------------------------


async def test_an_unparseable_request_is_one_warning_without_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    settings = Settings(state_dir=tmp_path, http_port=free_tcp_port())
    runner = await start_control_server(make_control_app(FakeControl(), ScreenPopService(database), TOKEN),
                                        settings)
    try:
        request = raw_request("GET", "/api/health", host=f"127.0.0.1:{settings.http_port}".encode(),
                              headers=[(b"Bad Header", b"x")])
        reply = await send_raw(settings.http_port, request)
    finally:
        await runner.cleanup()
        database.dispose()
    assert reply.status == 400
    lines = [r for r in caplog.records if r.name == "ivr_engine.control.http_server"]
    assert [(r.levelno, r.getMessage().split()[0]) for r in lines] == [
        (logging.WARNING, "http.malformed_request")
    ]
    assert "status=400" in lines[0].getMessage()
