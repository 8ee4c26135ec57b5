"""Several nodes: a desk control sent to a node that does not hold the call is forwarded to the node that
does (``ivr_engine.web.forward``). Two apps in one process: ``desk`` (the conftest's) holds agent 1001's
call; ``front`` is another node's app, on the same users file and database, holding no call."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from acd.live.api import RuntimeEvent, RuntimeEventKind
from acd.live.controls import CallControls
from acd.live.desk_state import DeskState
from acd.live.lease import NodeAddress
from acd.live.worker import EngineWorker
from ivr_engine.control import make_control_app
from ivr_engine.screenpop import ScreenPopService
from ivr_engine.storage import Database
from ivr_engine.web import UserFile, add_web_routes
from ivr_engine.web.call_controls import add_call_control_routes
from ivr_engine.web.forward import FORWARDED_BY, add_node_forwarding
from ivr_engine.web.monitor import add_monitor_route
from tests.acd_control_fakes import FakeControl

from .conftest import PASSWORDS, Desk, FakeAri, FakeMonitor
from .test_call_controls import on_call


@dataclass
class Front:
    client: TestClient
    control: FakeControl
    calls: CallControls
    holders: dict[str, NodeAddress] = field(default_factory=dict)
    """agent id -> the node holding their call, as the ACD's shared state would say."""
    asked: list[str] = field(default_factory=list)
    lookup_errors: list[Exception] = field(default_factory=list)
    """Raised by the lookup while not empty (the shared store away)."""

    @property
    def base(self) -> str:
        return str(self.client.make_url("")).rstrip("/")

    async def sign_in(self, name: str) -> None:
        answer = await self.client.post("/login", json={"username": name, "password": PASSWORDS[name]},
                                        headers={"Origin": self.base})
        assert answer.status == 200, await answer.text()

    async def post(self, path: str, body: Any, **headers: str) -> Any:
        return await self.client.post(path, json=body, headers={"Origin": self.base, **headers})


@pytest.fixture
async def front(desk: Desk, database: Database, users: UserFile) -> AsyncIterator[Front]:
    control = FakeControl(desk.control.now)
    app = make_control_app(control, ScreenPopService(database), "unused-token", clock=lambda: control.now)
    add_web_routes(app, database=database, users=users)
    worker = EngineWorker(control.acd, lambda applied: None, lambda: control.now)
    calls = CallControls(worker, FakeAri(), clock=lambda: control.now)  # type: ignore[arg-type]
    add_call_control_routes(app, calls)
    add_monitor_route(app, FakeMonitor(control), users)
    holders: dict[str, NodeAddress] = {}
    asked: list[str] = []
    errors: list[Exception] = []

    async def holder_of(agent_id: str) -> NodeAddress | None:
        asked.append(agent_id)
        if errors:
            raise errors[0]
        return holders.get(agent_id)

    add_node_forwarding(app, holder_of, node="node1")
    try:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            yield Front(client, control, calls, holders, asked, errors)
    finally:
        worker.close()


async def test_hold_and_resume_sent_to_another_node_act_on_the_node_holding_the_call(
    desk: Desk, front: Front,
) -> None:
    await on_call(desk)
    await front.sign_in("ann")
    refused = await front.post("/web/calls/call-1/hold", {})
    assert refused.status == 403  # nobody said node2 holds it: this node does not know the call
    assert desk.ari.calls == []
    front.holders["1001"] = NodeAddress("node2", desk.base)
    held = await front.post("/web/calls/call-1/hold", {})
    assert held.status == 200, await held.text()
    assert (await held.json())["held"] is True
    assert desk.ari.calls == [
        ("remove_channel", "acd-call-1", ["call-1"]), ("start_moh", "call-1", "default")
    ]
    resumed = await front.post("/web/calls/call-1/resume", {})
    assert resumed.status == 200
    assert (await resumed.json())["held"] is False
    assert front.asked == ["1001", "1001", "1001"]  # the signed-in agent's call


async def test_the_holders_refusals_and_session_rules_come_back_as_they_are(desk: Desk, front: Front) -> None:
    await on_call(desk)
    front.holders["1002"] = NodeAddress("node2", desk.base)
    await front.sign_in("raj")  # agent 1002 did not answer call-1: the holder says so
    answer = await front.post("/web/calls/call-1/hold", {})
    assert answer.status == 403
    assert (await answer.json())["error"] == "call call-1 was not answered by agent 1002"
    cross_site = await front.client.post("/web/calls/call-1/hold", json={},
                                         headers={"Origin": "http://evil.example"})
    assert cross_site.status == 403  # refused here, never forwarded
    assert front.asked == ["1002"]
    assert desk.ari.calls == []


async def test_a_forwarded_request_is_never_forwarded_again(desk: Desk, front: Front) -> None:
    await on_call(desk)
    await front.sign_in("ann")
    front.holders["1001"] = NodeAddress("node2", desk.base)
    answer = await front.post("/web/calls/call-1/hold", {}, **{FORWARDED_BY: "node3"})
    assert answer.status == 403  # handled here, which does not know the call
    assert front.asked == []
    assert desk.ari.calls == []


async def test_a_supervisors_listen_in_goes_to_the_node_holding_the_agents_call(
    desk: Desk, front: Front,
) -> None:
    await on_call(desk)
    await front.sign_in("boss")
    front.holders["1001"] = NodeAddress("node2", desk.base)
    answer = await front.post("/web/agents/1001/monitor", {"supervisor": "1009", "mode": "listen"})
    assert answer.status == 200, await answer.text()
    assert desk.monitor.started == ["1001 PJSIP/1009 listen"]
    assert front.asked == ["1001"]


async def test_a_holder_that_does_not_answer_is_a_clear_502(desk: Desk, front: Front) -> None:
    with socket.socket() as probe:  # a free loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await front.sign_in("ann")
    front.holders["1001"] = NodeAddress("node2", f"http://127.0.0.1:{port}")
    answer = await front.post("/web/calls/call-1/hold", {})
    assert answer.status == 502
    assert (await answer.json())["error"].startswith("node2 holds this call and did not answer (")


async def test_other_requests_are_not_forwarded(desk: Desk, front: Front) -> None:
    await front.sign_in("ann")
    front.holders["1001"] = NodeAddress("node2", desk.base)
    me = await front.client.get("/web/me")
    assert me.status == 200
    ready = await front.post("/web/agents/1001/login", {})
    assert ready.status in (200, 404, 409)  # answered by this node, whatever it says
    assert front.asked == []


async def test_a_holder_that_cannot_be_looked_up_leaves_the_request_to_this_node(
    desk: Desk, front: Front,
) -> None:
    await on_call(desk)
    await front.sign_in("ann")
    front.holders["1001"] = NodeAddress("node2", desk.base)
    front.lookup_errors.append(ConnectionError("connection refused"))
    answer = await front.post("/web/calls/call-1/hold", {})
    assert answer.status == 403  # answered here (which does not know the call), not a 500
    assert desk.ari.calls == []


async def test_the_desk_shows_a_call_another_node_holds_as_that_nodes_events_told_it(front: Front) -> None:
    """Agent 1001's call is bridged by node 2; this node's desk shows it held once node 2's event said so
    (``acd.live.node_bus``), and not held again after the resume."""
    engine, now = front.control.acd, front.control.now
    await front.control.login("1001")
    engine.enqueue("call-1", "15550001001", "general", now)
    engine.answer("1001", now)
    await front.sign_in("ann")
    me = await (await front.client.get("/web/me")).json()
    assert (me["agent"]["held"], me["agent"]["call_controls"][0]) == (False, "hold")

    at = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    for detail, held, button in (("call held", True, "resume"), ("call resumed", False, "hold")):
        event = RuntimeEvent(RuntimeEventKind.STATE_CHANGED, at, "1001", "call-1", "15550001001", "general",
                             detail, node="node2")
        front.calls.remote.heard(event, DeskState(held=held))
        me = await (await front.client.get("/web/me")).json()
        assert (me["agent"]["held"], me["agent"]["call_controls"][0]) == (held, button)
    consulting = DeskState(held=True, consult_target="1002", consult_state="ringing")
    front.calls.remote.heard(event, consulting)
    me = await (await front.client.get("/web/me")).json()
    assert me["agent"]["consult"] == {"target": "1002", "state": "ringing"}
