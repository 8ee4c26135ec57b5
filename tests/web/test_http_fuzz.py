"""Fuzz over the served app (control API and web desktop): whatever the body, cookie, token, content type,
Origin or Host, the answer is never a 5xx and nothing is logged as an error.

Requests go over a bare TCP connection so header values may hold any byte but CR/LF. Derandomized: the
same examples on every run. The event streams are left out (they never end by themselves)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr_engine.web.context import WEB_KEY
from ivr_engine.web.session import COOKIE_NAME
from tests.raw_http import raw_request, send_raw

from .conftest import Desk
from .test_call_controls import on_call

ROUTES = [
    ("GET", "/api/health"), ("GET", "/api/agents"), ("GET", "/api/agents/1001"), ("GET", "/api/queues"),
    ("POST", "/api/agents/1001/login"), ("POST", "/api/agents/1001/logout"),
    ("POST", "/api/agents/1001/ready"), ("POST", "/api/agents/1001/pause"),
    ("GET", "/api/agents/1001/screenpop"), ("GET", "/"), ("GET", "/login"), ("POST", "/login"),
    ("POST", "/logout"), ("GET", "/agent"), ("GET", "/wallboard"), ("GET", "/web/me"),
    ("POST", "/web/agents/1001/login"), ("POST", "/web/agents/1001/pause"),
    ("POST", "/web/agents/1002/ready"), ("POST", "/web/agents/1001/nonsense"),
    ("GET", "/web/agents/1001/screenpop"),
    ("POST", "/web/calls/call-1/wrapup"), ("GET", "/web/calls/call-1/survey"), ("GET", "/web/wallboard"),
    ("GET", "/static/web/login.js"), ("PUT", "/login"), ("DELETE", "/api/agents/1001"),
    ("POST", "/web/calls/call-1/hold"), ("POST", "/web/calls/call-1/resume"),
    ("POST", "/web/calls/call-1/hangup"), ("POST", "/web/calls/call-1/transfer"),
    ("POST", "/web/calls/call-1/wrapup-time"), ("POST", "/web/calls/call-1/consult"),
    ("POST", "/web/calls/call-1/consult/complete"), ("POST", "/web/calls/call-1/consult/cancel"),
]
TOKEN = b"unused-token"  # the desk fixture's control token

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
field_objects = st.fixed_dictionaries({}, optional={
    "username": st.sampled_from(["ann", "boss", "nobody"]) | st.text(max_size=80) | json_values,
    "password": st.sampled_from(["ann-secret-1", "wrong"]) | json_values,
    "reason": st.sampled_from(["lunch", "", " "]) | st.text(max_size=80) | json_values,
    "disposition": st.sampled_from(["resolved", "nope"]) | json_values,
    "note": st.text(max_size=100) | json_values,
    "queue": st.sampled_from(["billing", "nowhere"]) | json_values,
    "agent": st.sampled_from(["1002", "1001"]) | json_values,
    "seconds": st.sampled_from([60, 0, 1e308]) | json_values,
})
bodies = st.one_of(
    st.just(b""),
    field_objects.map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.integers(1, 10_000).map(lambda n: b"[" * n),
    st.integers(1, 6000).map(lambda n: b'{"reason": ' + b"7" * n + b"}"),
    st.integers(1, 40).map(lambda n: b'{"reason": ' + b'{"a": ' * n + b"1" + b"}" * n + b"}"),
)
header_bytes = st.binary(max_size=80).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
content_types = st.one_of(
    st.sampled_from([
        b"application/json", b"application/json; charset=utf-8", b"application/json; charset=bogus",
        b"application/json; charset=", b"text/plain", b"application/x-www-form-urlencoded",
        b"multipart/form-data; boundary=x", b"application/json;;;charset=\xff",
    ]),
    header_bytes,
)


@pytest.fixture(autouse=True)
def no_error_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.INFO)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


@settings(derandomize=True, deadline=None, max_examples=150, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    route=st.sampled_from(ROUTES),
    body=bodies,
    content_type=st.none() | content_types,
    cookie=st.sampled_from(["none", "ann", "boss", "random"]),
    cookie_bytes=header_bytes,
    auth=st.none() | st.just(b"Bearer " + TOKEN) | header_bytes.map(lambda b: b"Bearer " + b) | header_bytes,
    origin=st.sampled_from(["same", "none", "random"]),
    origin_bytes=header_bytes,
    host=st.sampled_from(["ours", "ours", "ours", "localhost", "random"]),
    host_bytes=header_bytes,
)
async def test_no_request_gets_a_5xx(
    desk: Desk, route: tuple[str, str], body: bytes, content_type: bytes | None, cookie: str,
    cookie_bytes: bytes, auth: bytes | None, origin: str, origin_bytes: bytes, host: str, host_bytes: bytes,
) -> None:
    method, path = route
    if desk.calls.live_call("call-1") is None:  # ann is on call-1, so the call controls go past own_call
        await on_call(desk, "1001", "call-1")
    signer = desk.client.server.app[WEB_KEY].signer
    headers: list[tuple[bytes, bytes]] = []
    if cookie in ("ann", "boss"):
        headers.append((b"Cookie", f"{COOKIE_NAME}={signer.sign(cookie)}".encode()))
    elif cookie == "random":
        headers.append((b"Cookie", COOKIE_NAME.encode() + b"=" + cookie_bytes))
    if auth is not None:
        headers.append((b"Authorization", auth))
    if content_type is not None:
        headers.append((b"Content-Type", content_type))
    if origin != "none":
        headers.append((b"Origin", desk.base.encode() if origin == "same" else origin_bytes))
    host_header = {"ours": f"127.0.0.1:{desk.port}".encode(), "localhost": f"localhost:{desk.port}".encode(),
                   "random": host_bytes}[host]
    request = raw_request(method, path, host=host_header, headers=headers, body=body)
    reply = await send_raw(desk.port, request)
    assert 200 <= reply.status < 500, (reply.status, reply.body[:300])
