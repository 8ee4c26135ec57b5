"""The desk's call controls without Asterisk: which controls each ACD state offers, who may use them, what
they ask of ARI, the clean 4xx refusals, the transfer's step in the node path and more wrap-up time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

import acd
from acd import AgentState
from acd.desk_ops import MAX_WRAP_UP_LEFT, extend_wrap_up, offer_to_agent
from acd.live.controls import Redirect
from acd.live.inflight import Leg, Waiter
from ivr_engine.flow.ports import TransferRequest
from ivr_engine.storage.models import Call, NodeEntryRow, NodeEventRow
from ivr_engine.web.agent_actions import CallControl, offered_call_controls
from tests.acd_control_fakes import alice_pop

from .conftest import Desk

S, C = AgentState, CallControl
NOW = 1_796_287_882.0


def test_call_controls_appear_only_on_a_call_and_more_wrap_up_time_only_in_wrap_up() -> None:
    offered = {state: offered_call_controls(state) for state in AgentState}
    assert offered == {
        S.LOGGED_OUT: (), S.READY: (), S.PAUSED: (), S.RINGING: (),
        S.ON_CALL: (C.HOLD, C.HANGUP, C.TRANSFER, C.CONSULT),
        S.WRAP_UP: (C.EXTEND_WRAP_UP,),
    }  # fmt: skip
    assert offered_call_controls(S.ON_CALL, held=True) == (C.RESUME, C.HANGUP, C.TRANSFER, C.CONSULT)


class _Channel:
    def __init__(self, channel_id: str) -> None:
        self.id = channel_id


async def on_call(desk: Desk, agent_id: str = "1001", call_id: str = "call-1") -> Waiter:
    """``agent_id`` answered ``call_id`` in the engine and is bridged to its caller (channel ``call_id``)."""
    engine, now = desk.control.acd, desk.control.now
    if engine.agent(agent_id).state is AgentState.LOGGED_OUT:
        await desk.control.login(agent_id)
    if engine.agent(agent_id).state is AgentState.READY:
        engine.enqueue(call_id, "15550001001", "general", now)
        engine.answer(agent_id, now)
    desk.screenpops.publish(alice_pop(agent_id, call_id))
    request = TransferRequest(call_id, "15550001001", "general", {}, 0, {})
    waiter = Waiter(request, _Channel(call_id), asyncio.get_running_loop().create_future())  # type: ignore[arg-type]
    desk.calls.connected(waiter, Leg(f"agent-{call_id}", agent_id, call_id, answered=True), f"acd-{call_id}")
    return waiter


async def _json(response: Any) -> Any:
    return await response.json()


async def test_hold_and_resume_move_the_caller_out_of_the_bridge_to_music_and_back(desk: Desk) -> None:
    await on_call(desk)
    await desk.sign_in("ann")
    me = await (await desk.client.get("/web/me")).json()
    assert me["agent"]["call_controls"] == ["hold", "hangup", "transfer", "consult"]
    held = await desk.post("/web/calls/call-1/hold", {})
    assert held.status == 200, await held.text()
    data = await held.json()
    assert data["held"] is True
    assert data["agent"]["call_controls"] == ["resume", "hangup", "transfer", "consult"]
    assert desk.ari.calls == [
        ("remove_channel", "acd-call-1", ["call-1"]), ("start_moh", "call-1", "default")
    ]
    again = await desk.post("/web/calls/call-1/hold", {})
    assert (again.status, (await again.json())["error"]) == (409, "call call-1 is already on hold")
    resumed = await desk.post("/web/calls/call-1/resume", {})
    assert resumed.status == 200
    assert (await resumed.json())["agent"]["call_controls"] == ["hold", "hangup", "transfer", "consult"]
    assert desk.ari.calls[2:] == [("stop_moh", "call-1"), ("add_channel", "acd-call-1", ["call-1"])]
    assert (await desk.post("/web/calls/call-1/resume", {})).status == 409


async def test_a_call_that_ends_on_hold_has_its_music_stopped(desk: Desk) -> None:
    await on_call(desk)
    await desk.sign_in("ann")
    assert (await desk.post("/web/calls/call-1/hold", {})).status == 200
    live = desk.calls.live_call("call-1")
    assert live is not None
    assert await desk.calls.disconnected(live) is True
    assert desk.ari.calls[-1] == ("stop_moh", "call-1")
    gone = await desk.post("/web/calls/call-1/hangup", {})
    assert gone.status == 409
    assert "not on call call-1" in (await gone.json())["error"]


async def test_hang_up_ends_the_callers_channel(desk: Desk) -> None:
    await on_call(desk)
    await desk.sign_in("ann")
    response = await desk.post("/web/calls/call-1/hangup", {})
    assert response.status == 200, await response.text()
    assert desk.ari.calls == [("hangup", "call-1")]


async def test_only_the_agent_on_the_call_may_control_it(desk: Desk) -> None:
    await on_call(desk)
    assert (await desk.post("/web/calls/call-1/hold", {})).status == 401
    await desk.sign_in("raj")  # agent 1002 never had the call
    refused = await desk.post("/web/calls/call-1/hangup", {})
    error = (await refused.json())["error"]
    assert (refused.status, error) == (403, "call call-1 was not answered by agent 1002")
    await desk.sign_in("boss")
    assert (await desk.post("/web/calls/call-1/transfer", {"queue": "billing"})).status == 403
    await desk.sign_in("ann")
    assert (await desk.post("/web/calls/bad%20id/hold", {})).status == 400
    cross = await desk.client.post("/web/calls/call-1/hangup", json={}, headers={"Origin": "http://evil"})
    assert cross.status == 403
    # Ann answered call-0 once (her screen-pop), but she is not bridged to it now.
    desk.screenpops.publish(alice_pop("1001", "call-0"))
    stale = await desk.post("/web/calls/call-0/hold", {})
    assert stale.status == 409
    assert desk.ari.calls == []


async def test_blind_transfer_checks_its_target_and_writes_a_step_in_the_node_path(desk: Desk) -> None:
    waiter = await on_call(desk)
    at = datetime.fromtimestamp(desk.control.now, UTC)
    desk.database.call(lambda s: s.add_all([
        Call(id="call-1", caller="15550001001", dialled="100", started=at),
        NodeEntryRow(call_id="call-1", seq=4, flow="agent", node="to_agent", node_type="transfer",
                     entered=at),
    ]))  # fmt: skip
    await desk.sign_in("ann")
    for body, status, error in [
        ({}, 400, "name either 'queue' or 'agent' to transfer to"),
        ({"queue": "general", "agent": "1002"}, 400, "name either 'queue' or 'agent' to transfer to"),
        ({"queue": "nowhere"}, 404, "no queue 'nowhere' in the ACD"),
        ({"agent": "9999"}, 404, "no agent '9999' in the ACD"),
        ({"agent": "1001"}, 409, "a call cannot be transferred to the agent who has it"),
        ({"agent": "1002"}, 409, "agent 1002 is not ready (logged_out)"),
        ({"queue": 7}, 400, "'queue' must be text"),
    ]:
        response = await desk.post("/web/calls/call-1/transfer", body)
        assert (response.status, (await response.json())["error"]) == (status, error), body
    await desk.control.login("1002")
    moved = await desk.post("/web/calls/call-1/transfer", {"agent": "1002"})
    assert moved.status == 200, await moved.text()
    assert (await moved.json())["transferred_to"] == "agent 1002"
    live = desk.calls.live_call("call-1")
    assert live is not None
    assert live.redirected.is_set()
    assert live.redirect == Redirect("1001", "general", "1002")
    assert live.waiter is waiter
    steps = desk.database.call(lambda s: [(r.seq, r.flow, r.node, r.input, r.outcome)
                                          for r in s.scalars(select(NodeEventRow))])
    assert steps == [(4, "desk", "transfer", "agent 1002", "by agent 1001")]
    twice = await desk.post("/web/calls/call-1/transfer", {"queue": "billing"})
    assert twice.status == 409  # the call is on its way: no more controls


async def test_more_wrap_up_time_only_in_wrap_up_and_bounded(desk: Desk) -> None:
    await on_call(desk)
    await desk.sign_in("ann")
    early = await desk.post("/web/calls/call-1/wrapup-time", {"seconds": 60})
    assert early.status == 409
    assert "not in wrap-up" in (await early.json())["error"]
    desk.control.acd.end_call("1001", desk.control.now)
    for bad in (0, -5, "60", True, MAX_WRAP_UP_LEFT + 1, None):
        assert (await desk.post("/web/calls/call-1/wrapup-time", {"seconds": bad})).status == 400, bad
    more = await desk.post("/web/calls/call-1/wrapup-time", {"seconds": 60})
    assert more.status == 200, await more.text()
    data = await more.json()
    left = desk.control.acd.queue("general").wrap_up_seconds + 60
    assert data["wrap_up_left"] == pytest.approx(left)
    assert data["agent"]["wrap_up_left"] == pytest.approx(left)
    assert data["agent"]["call_controls"] == ["extend_wrap_up"]


def _engine() -> acd.Acd:
    return acd.Acd([acd.Queue("general", {"general": 1}, wrap_up_seconds=30, ring_timeout=15)],
                   agents=[acd.Agent("1001", "Ann Lee", "PJSIP/1001", {"general": 5}),
                           acd.Agent("1002", "Raj Patel", "PJSIP/1002", {"orders": 9})])


def test_a_transfer_to_an_agent_rings_that_agent_even_without_the_queues_skills() -> None:
    engine = _engine()
    engine.login("1001", NOW - 100)  # idle longest: routing would pick 1001
    engine.login("1002", NOW - 10)
    events = offer_to_agent(engine, "c1", "1555", "general", "1002", NOW, why="transferred by agent 1003")
    offers = [e.offer for e in events if isinstance(e, acd.OfferMade)]
    assert [(o.agent_id, o.expires_at, o.decision.why) for o in offers] == [
        ("1002", NOW + 15, "transferred by agent 1003")
    ]
    assert engine.agent("1002").state is S.RINGING
    assert engine.agent("1001").state is S.READY
    # Unanswered: 1002 is paused "no answer" and the call stays in the queue for whoever fits.
    engine.tick(NOW + 16)
    assert engine.agent("1002").state is S.PAUSED
    assert engine.agent("1001").state is S.RINGING


def test_a_transfer_to_an_agent_who_is_not_ready_is_refused_and_changes_nothing() -> None:
    engine = _engine()
    with pytest.raises(acd.InvalidTransition, match="not ready"):
        offer_to_agent(engine, "c1", "1555", "general", "1002", NOW)
    assert engine.store.call("c1") is None


def test_wrap_up_extends_from_now_or_its_end_and_never_past_the_bound() -> None:
    engine = _engine()
    engine.login("1001", NOW)
    engine.enqueue("c1", "1555", "general", NOW)
    engine.answer("1001", NOW)
    with pytest.raises(acd.InvalidTransition, match="not in wrap-up"):
        extend_wrap_up(engine, "1001", 60, NOW)
    engine.end_call("1001", NOW)  # 30 s of wrap-up
    assert extend_wrap_up(engine, "1001", 60, NOW + 10) == pytest.approx(80)
    assert extend_wrap_up(engine, "1001", 10_000, NOW + 10) == pytest.approx(MAX_WRAP_UP_LEFT)
    engine.tick(NOW + 100)
    assert engine.agent("1001").state is S.WRAP_UP
    engine.tick(NOW + 10 + MAX_WRAP_UP_LEFT)
    assert engine.agent("1001").state is S.READY
