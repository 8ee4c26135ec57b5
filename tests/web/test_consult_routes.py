"""The desk's consult transfer routes without Asterisk: start (the caller on hold, the target rung with a
consult offer), the buttons following the consult's state, complete (the target has the call, a
``desk / consult transfer`` step in the node path) and cancel, with their clean 4xx refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

import acd
from acd import AgentState
from acd.live.answered import AnsweredBy
from acd.live.consult import Consults
from acd.live.hub import EventHub
from acd.live.inflight import Leg
from acd.live.tasks import TaskSet
from ivr_engine.storage.models import Call, NodeEntryRow, NodeEventRow

from .conftest import Desk
from .test_call_controls import on_call

S = AgentState


class _Channel:
    def __init__(self, channel_id: str) -> None:
        self.id = channel_id


class FakeLegs:
    """What ``Consults`` asks of ``AgentLegs``, recorded."""

    def __init__(self) -> None:
        self.consult_answered: Any = None
        self.rung: list[tuple[acd.Offer, str, Leg, str | None]] = []
        self.hung_up: list[str] = []

    async def ring(self, offer: acd.Offer, agent: acd.Agent, leg: Leg, *,
                   caller_id: str | None = None) -> None:
        self.rung.append((offer, agent.id, leg, caller_id))

    def release(self, leg: Leg) -> None:
        leg.released.set()

    async def hang_up(self, leg: Leg) -> None:
        self.hung_up.append(leg.channel_id)

    async def keep(self, channel: Any, leg: Leg) -> None:
        return None


def with_consults(desk: Desk) -> FakeLegs:
    legs = FakeLegs()
    calls = desk.calls
    clock = lambda: desk.control.now  # noqa: E731
    Consults(calls, calls._worker, desk.ari, legs, hub=EventHub(),  # type: ignore[arg-type]
             answered_by=AnsweredBy(clock), tasks=TaskSet(), clock=clock)
    return legs


async def _me(desk: Desk) -> dict[str, Any]:
    data: dict[str, Any] = (await (await desk.client.get("/web/me")).json())["agent"]
    return data


async def _status(response: Any) -> tuple[int, str]:
    return response.status, (await response.json()).get("error", "")


async def test_consult_then_complete_gives_the_call_to_the_target(desk: Desk) -> None:
    legs = with_consults(desk)
    await on_call(desk)
    at = datetime.fromtimestamp(desk.control.now, UTC)
    desk.database.call(lambda s: s.add_all([
        Call(id="call-1", caller="15550001001", dialled="100", started=at),
        NodeEntryRow(call_id="call-1", seq=4, flow="agent", node="to_agent", node_type="transfer",
                     entered=at),
    ]))  # fmt: skip
    await desk.sign_in("ann")
    for body, status, error in [
        ({}, 400, "name the 'agent' to consult"),
        ({"agent": 7}, 400, "'agent' must be text"),
        ({"agent": "9999"}, 404, "no agent '9999' in the ACD"),
        ({"agent": "1001"}, 409, "an agent cannot consult themselves"),
        ({"agent": "1002"}, 409, "agent 1002 is not ready"),
    ]:
        assert await _status(await desk.post("/web/calls/call-1/consult", body)) == (status, error), body
    assert await _status(await desk.post("/web/calls/call-1/consult/complete", {})) == (
        409, "call call-1 has no consult under way")
    assert desk.ari.calls == []

    await desk.control.login("1002")
    started = await desk.post("/web/calls/call-1/consult", {"agent": "1002"})
    assert started.status == 200, await started.text()
    data = await started.json()
    assert (data["consult"], data["held"]) == ({"target": "1002", "state": "ringing"}, True)
    assert data["agent"]["call_controls"] == ["cancel_consult", "hangup"]
    assert desk.ari.calls == [
        ("remove_channel", "acd-call-1", ["call-1"]), ("start_moh", "call-1", "default")
    ]
    (offer, target, leg, caller_id) = legs.rung[0]
    assert (offer.call_id, target, caller_id) == ("call-1.consult", "1002", "1001")
    assert desk.control.acd.agent("1002").state is S.RINGING  # the ACD offers 1002 nothing else meanwhile
    for path, error in [("hold", "call call-1 has a consult under way: complete or cancel it first"),
                        ("consult/complete", "agent 1002 has not answered the consult yet")]:
        assert await _status(await desk.post(f"/web/calls/call-1/{path}", {})) == (409, error)
    again = await desk.post("/web/calls/call-1/consult", {"agent": "1002"})
    assert await _status(again) == (409, "call call-1 has a consult under way already")

    desk.ari.calls.clear()
    await legs.consult_answered(_Channel(leg.channel_id), leg)  # 1002 picks up
    assert desk.ari.calls == [
        ("create_bridge", "consult-call-1", "mixing", "consult-call-1"),
        ("remove_channel", "acd-call-1", ["agent-call-1"]),
        ("add_channel", "consult-call-1", ["agent-call-1", leg.channel_id]),
    ]
    me = await _me(desk)
    assert me["call_controls"] == ["complete_consult", "cancel_consult", "hangup"]
    assert me["consult"] == {"target": "1002", "state": "talking"}

    desk.ari.calls.clear()
    done = await desk.post("/web/calls/call-1/consult/complete", {})
    assert done.status == 200, await done.text()
    assert desk.ari.calls == [  # the target's leg leaves the consult bridge before it goes
        ("remove_channel", "consult-call-1", [leg.channel_id]),
        ("add_channel", "acd-call-1", [leg.channel_id]),
        ("stop_moh", "call-1"),
        ("add_channel", "acd-call-1", ["call-1"]),
        ("destroy_bridge", "consult-call-1"),
    ]
    assert (await done.json())["transferred_to"] == "agent 1002"
    assert desk.control.acd.agent("1001").state is S.WRAP_UP
    target_now = desk.control.acd.agent("1002")
    assert (target_now.state, target_now.current_call) == (S.ON_CALL, "call-1")
    live = desk.calls.live_call("call-1")
    assert live is not None
    assert live.leg is leg
    assert live.handed_over.is_set()
    steps = desk.database.call(lambda s: [(r.seq, r.flow, r.node, r.input, r.outcome)
                                          for r in s.scalars(select(NodeEventRow))])
    assert steps == [(4, "desk", "consult transfer", "agent 1002", "by agent 1001")]
    after = await desk.post("/web/calls/call-1/consult/cancel", {})
    assert after.status == 409  # 1001 is no longer on the call


async def test_cancel_takes_the_caller_back_and_the_target_is_ready(desk: Desk) -> None:
    legs = with_consults(desk)
    await on_call(desk)
    await desk.control.login("1002")
    await desk.sign_in("raj")
    mine = await desk.post("/web/calls/call-1/consult", {"agent": "1003"})
    assert mine.status == 403  # not raj's call
    await desk.sign_in("ann")
    assert (await desk.post("/web/calls/call-1/consult", {"agent": "1002"})).status == 200
    leg = legs.rung[0][2]
    await legs.consult_answered(_Channel(leg.channel_id), leg)
    await desk.sign_in("raj")
    assert (await _me(desk))["call_controls"] == []  # the target ends a consult at the phone
    await desk.sign_in("ann")
    desk.ari.calls.clear()
    cancelled = await desk.post("/web/calls/call-1/consult/cancel", {})
    assert cancelled.status == 200, await cancelled.text()
    data = await cancelled.json()
    assert (data["consult"], data["held"]) == (None, False)
    assert data["agent"]["call_controls"] == ["hold", "hangup", "transfer", "consult"]
    assert legs.hung_up == [leg.channel_id]
    assert desk.ari.calls == [
        ("remove_channel", "consult-call-1", ["agent-call-1"]),  # out of the consult bridge before it goes
        ("add_channel", "acd-call-1", ["agent-call-1"]),
        ("stop_moh", "call-1"),
        ("add_channel", "acd-call-1", ["call-1"]),
        ("destroy_bridge", "consult-call-1"),
    ]
    assert desk.control.acd.agent("1002").state is S.READY
    assert desk.control.acd.agent("1001").state is S.ON_CALL
    assert await _status(await desk.post("/web/calls/call-1/consult/cancel", {})) == (
        409, "call call-1 has no consult under way")
