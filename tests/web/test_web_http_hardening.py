"""Hostile HTTP on the web desktop: cookies outside ASCII, hostile sign-in and action bodies (JSON or
form), a body in two TCP segments, and the Host check on the pages.

Each is a clear 4xx with a JSON error (or the sign-in redirect for a page), and no ERROR in the log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from acd import AgentState
from ivr_engine.web.session import COOKIE_NAME, SessionSigner
from tests.acd_control_fakes import alice_pop
from tests.raw_http import raw_request, send_raw

from .conftest import PASSWORDS, Desk

DEEP = b"[" * 8000
DIGITS = b'{"username": ' + b"9" * 5000 + b', "password": "x"}'


@pytest.fixture(autouse=True)
def no_error_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


def _host(desk: Desk) -> bytes:
    return f"127.0.0.1:{desk.port}".encode()


@pytest.mark.parametrize("cookie", [b"ab\xffc.de", "é.é".encode(), b"\xc3\x28", b"x" * 100 + b".\x80"])
async def test_a_cookie_with_bytes_outside_ascii_is_no_session(desk: Desk, cookie: bytes) -> None:
    headers = [(b"Cookie", COOKIE_NAME.encode() + b"=" + cookie)]
    reply = await send_raw(desk.port, raw_request("GET", "/web/me", host=_host(desk), headers=headers))
    assert (reply.status, reply.json()) == (401, {"error": "sign in first at /login"})
    reply = await send_raw(desk.port, raw_request("GET", "/agent", host=_host(desk), headers=headers))
    assert (reply.status, reply.headers["location"]) == (302, "/login")


def test_the_signer_refuses_text_no_signed_cookie_has() -> None:
    signer = SessionSigner(lambda: b"key", clock=lambda: 1000.0)
    good = signer.sign("ann")
    assert signer.verify(good) == "ann"
    payload, _, mac = good.partition(".")
    for forged in (f"{payload}.{mac}é", f"{payload}\udcff.{mac}", f"é{payload}.{mac}", "\udcff.\udcfe"):
        assert signer.verify(forged) is None


@pytest.mark.parametrize(
    ("content_type", "body", "status", "needle"),
    [
        ("application/json", DIGITS, 400, "number in the request body is longer"),
        ("application/json", DEEP, 400, "deeper than"),
        ("application/json", b'{"username": "ann", "password": "\xff"}', 400, "not valid UTF-8"),
        ("application/json; charset=bogus", b'{"username": "ann", "password": "x"}', 415, "UTF-8"),
        ("application/x-www-form-urlencoded", b"username=" + b"9" * 5000 + b"&password=x", 415, "JSON"),
        ("application/x-www-form-urlencoded", b"username=" + DEEP, 415, "JSON"),
        ("multipart/form-data; boundary=x", b"--x\r\n\r\n" + DEEP, 415, "JSON"),
    ],
)
async def test_a_hostile_sign_in_is_a_clear_4xx(
    desk: Desk, content_type: str, body: bytes, status: int, needle: str
) -> None:
    response = await desk.client.post("/login", data=body,
                                      headers={"Origin": desk.base, "Content-Type": content_type})
    assert response.status == status
    assert needle in (await response.json())["error"]
    assert COOKIE_NAME not in response.cookies


@pytest.mark.parametrize(
    "path", ["/logout", "/web/agents/1001/pause", "/web/agents/1001/ready", "/web/calls/call-1/wrapup"]
)
@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", DEEP, 400),
        ("application/json", b'{"reason": ' + b"1" * 5000 + b"}", 400),
        ("application/json", b'{"reason": "\xc3\x28"}', 400),
        ("application/json; charset=bogus", b"{}", 415),
        ("application/json", b'{"reason": "' + b"x" * 20_000 + b'"}', 413),
    ],
)
async def test_every_web_post_reads_its_body_the_same_way(
    desk: Desk, path: str, content_type: str, body: bytes, status: int
) -> None:
    desk.screenpops.publish(alice_pop("1001", "call-1"))
    await desk.sign_in("ann")
    headers = {"Origin": desk.base, "Content-Type": content_type}
    response = await desk.client.post(path, data=body, headers=headers)
    assert response.status == status
    assert "request body" in (await response.json())["error"]
    assert desk.control.state("1001") is AgentState.LOGGED_OUT


async def test_a_sign_in_in_two_tcp_segments_is_read_whole(desk: Desk) -> None:
    body = json.dumps({"username": "ann", "password": PASSWORDS["ann"]}).encode()
    request = raw_request("POST", "/login", host=_host(desk), body=body,
                          headers=[(b"Content-Type", b"application/json"), (b"Origin", desk.base.encode())])
    reply = await send_raw(desk.port, request, split_at=len(request) - len(body) // 2)
    assert reply.status == 200, reply.body
    assert reply.json()["user"] == "ann"
    assert reply.headers["set-cookie"].startswith(f"{COOKIE_NAME}=")


async def test_an_action_in_two_tcp_segments_is_read_whole(desk: Desk) -> None:
    await desk.sign_in("ann")
    await desk.post("/web/agents/1001/login", {})
    cookie = desk.client.session.cookie_jar.filter_cookies(desk.client.make_url("/"))[COOKIE_NAME].value
    body = json.dumps({"reason": "lunch"}).encode()
    request = raw_request("POST", "/web/agents/1001/pause", host=_host(desk), body=body, headers=[
        (b"Content-Type", b"application/json"), (b"Origin", desk.base.encode()),
        (b"Cookie", f"{COOKIE_NAME}={cookie}".encode())])
    reply = await send_raw(desk.port, request, split_at=len(request) - 3)
    assert reply.status == 200, reply.body
    assert desk.control.state("1001") is AgentState.PAUSED


@pytest.mark.parametrize("path", ["/login", "/agent", "/wallboard", "/web/me", "/static/web/desk.css"])
async def test_pages_refuse_another_host(desk: Desk, path: str) -> None:
    response = await desk.client.get(path, headers={"Host": f"rebound.example:{desk.port}"},
                                     allow_redirects=False)
    assert response.status == 421
    assert "does not answer to host rebound.example" in (await response.json())["error"]
    assert (await desk.client.get("/login", headers={"Host": f"localhost:{desk.port}"})).status == 200


async def test_sign_in_from_another_host_is_refused_before_the_password_is_checked(desk: Desk) -> None:
    rebound = f"http://rebound.example:{desk.port}"
    response = await desk.client.post("/login", json={"username": "ann", "password": PASSWORDS["ann"]},
                                      headers={"Host": f"rebound.example:{desk.port}", "Origin": rebound})
    assert response.status == 421
    assert COOKIE_NAME not in response.cookies
