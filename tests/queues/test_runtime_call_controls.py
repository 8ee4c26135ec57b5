"""The agent's call controls in the live runtime against the fake ARI: hold and resume move the caller out
of the bridge to music and back, a call ending on hold has its music stopped, hang-up ends the caller and
puts the agent in wrap-up, a blind transfer ends the agent's leg and queues the caller again (to a named
agent first, or to another queue)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

import acd
from acd.live.api import RuntimeEvent, RuntimeEventKind
from acd.live.controls import NotOnThisCall
from acd.live.desk_state import DeskState
from acd.records.rows import QueueOutcome

if TYPE_CHECKING:
    from .conftest import Lab

S = acd.AgentState


async def _bridged(lab: Lab, agent_id: str, call_id: str = "c1") -> str:
    """The caller ``call_id`` is bridged to ``agent_id`` (logged in first); the agent's leg."""
    await lab.runtime.login(agent_id)
    await lab.fake.incoming(call_id, "100", caller="555")
    await lab.until(lambda: lab.legs(call_id))
    leg = lab.legs(call_id)[-1][0]
    await lab.agent_answers(leg, call_id)
    bridge = f"acd-{call_id}"
    await lab.until(lambda: lab.fake.bridges.get(bridge, {}).get("channels") == sorted([call_id, leg]))
    return leg


async def test_hold_plays_music_to_the_caller_out_of_the_bridge_and_resume_brings_them_back(
    start_lab: Any,
) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30)
    leg = await _bridged(lab, "1003")
    calls = lab.runtime.calls
    with pytest.raises(NotOnThisCall):
        await calls.hold("1001", "c1")  # not this agent's call
    await calls.hold("1003", "c1")
    assert lab.fake.bridges["acd-c1"]["channels"] == [leg]
    assert lab.fake.moh == {"c1": "default"}
    assert calls.held("c1")
    await calls.resume("1003", "c1")
    assert lab.fake.bridges["acd-c1"]["channels"] == sorted(["c1", leg])
    assert lab.fake.moh == {}

    await calls.hold("1003", "c1")
    await lab.fake.caller_hangup(leg)  # the agent hangs up while the caller is held
    await lab.until(lambda: "c1" in lab.outcomes)
    assert lab.outcomes["c1"] == "completed"
    assert lab.fake.calls("DELETE", "/channels/c1/moh")  # the music stopped before the flow went on
    assert lab.state("1003") is S.WRAP_UP
    assert not calls.held("c1")


async def test_a_hold_pressed_while_the_bridge_is_being_made_waits_for_it(start_lab: Any) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30)
    lab.fake.delays[("POST", "/bridges/acd-c1/addChannel")] = 0.3  # Asterisk slow to bridge
    await lab.runtime.login("1003")
    await lab.fake.incoming("c1", "100", caller="555")
    await lab.until(lambda: lab.legs("c1"))
    leg = lab.legs("c1")[-1][0]
    await lab.agent_answers(leg, "c1")
    await lab.until(lambda: lab.runtime.calls.live_call("c1") is not None)  # the desk shows Hold now
    await lab.runtime.calls.hold("1003", "c1")  # Asterisk refused it (422) when it came first
    assert lab.fake.bridges["acd-c1"]["channels"] == [leg]
    assert lab.fake.moh == {"c1": "default"}


async def test_hang_up_from_the_desk_ends_the_caller_and_the_agent_wraps_up(start_lab: Any) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30)
    leg = await _bridged(lab, "1001")
    await lab.runtime.calls.hang_up("1001", "c1")
    await lab.until(lambda: "c1" in lab.outcomes)
    await lab.service.wait_idle()
    assert lab.outcomes["c1"] == "hangup"
    assert lab.fake.calls("DELETE", f"/channels/{leg}")
    assert lab.fake.bridges == {}
    assert lab.state("1001") is S.WRAP_UP
    with pytest.raises(NotOnThisCall):
        await lab.runtime.calls.hang_up("1001", "c1")


async def test_blind_transfer_to_an_agent_rings_that_agent_and_bridges_them(start_lab: Any) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30, ring_timeout=5)
    first = await _bridged(lab, "1003")
    await lab.runtime.login("1001")
    await lab.runtime.login("1002")  # 1001 idles longest: the queue would pick 1001
    redirect = await lab.runtime.calls.transfer("1003", "c1", to_agent="1002")
    assert redirect.target() == "agent 1002"
    await lab.until(lambda: len(lab.legs("c1")) == 2)
    (second, endpoint) = lab.legs("c1")[-1]
    assert endpoint == "PJSIP/1002"
    assert lab.fake.calls("DELETE", f"/channels/{first}")
    assert lab.state("1003") is S.WRAP_UP
    assert lab.state("1002") is S.RINGING
    await lab.agent_answers(second, "c1")
    await lab.until(lambda: lab.fake.bridges.get("acd-c1", {}).get("channels") == sorted(["c1", second]))
    assert lab.runtime.agent_of("c1") == "1002"
    await lab.fake.caller_hangup(second)
    await lab.until(lambda: "c1" in lab.outcomes)
    assert lab.outcomes["c1"] == "completed"
    await lab.runtime.drain()
    assert [f["agent_id"] for f in lab.facts.of("answered")] == ["1003", "1002"]
    assert [f["outcome"] for f in lab.facts.of("ended")] == [QueueOutcome.ANSWERED, QueueOutcome.ANSWERED]
    assert len(lab.facts.of("enqueued")) == 2  # a second queue stay


async def test_blind_transfer_to_a_queue_while_held_stops_the_music_and_queues_the_caller(
    start_lab: Any,
) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30)
    first = await _bridged(lab, "1003")
    await lab.runtime.calls.hold("1003", "c1")
    await lab.runtime.calls.transfer("1003", "c1", queue="general")
    await lab.until(lambda: lab.fake.calls("DELETE", f"/channels/{first}"))
    await lab.until(lambda: lab.fake.calls("DELETE", "/channels/c1/moh"))
    await lab.runtime.login("1001")  # the caller waits in the queue until someone is ready
    await lab.until(lambda: len(lab.legs("c1")) == 2)
    assert lab.legs("c1")[-1][1] == "PJSIP/1001"
    await lab.agent_answers(lab.legs("c1")[-1][0], "c1")
    await lab.until(lambda: lab.state("1001") is S.ON_CALL)
    with pytest.raises(NotOnThisCall):
        await lab.runtime.calls.hold("1003", "c1")  # 1003 is no longer on it


async def test_hold_and_resume_tell_the_desks_and_the_desk_state_follows(start_lab: Any) -> None:
    """A hold changes no agent state, but every desk showing the agent must redraw its buttons: the
    runtime publishes it (and, with several nodes, ``acd.live.node_bus`` sends it with the desk state)."""
    lab: Lab = await start_lab(wrap_up_seconds=30)
    await _bridged(lab, "1003")
    calls = lab.runtime.calls
    events = lab.runtime.subscribe()
    assert calls.local_desk("c1") == DeskState(held=False)
    await calls.hold("1003", "c1")
    assert calls.local_desk("c1") == DeskState(held=True)
    await calls.resume("1003", "c1")
    told: list[RuntimeEvent] = []
    while len(told) < 2:
        event = await asyncio.wait_for(anext(events), 5)
        if event.kind is RuntimeEventKind.STATE_CHANGED:
            told.append(event)
    assert [(e.kind, e.agent_id, e.call_id, e.detail) for e in told] == [
        (RuntimeEventKind.STATE_CHANGED, "1003", "c1", "call held"),
        (RuntimeEventKind.STATE_CHANGED, "1003", "c1", "call resumed"),
    ]
    assert calls.local_desk("c9") is None


async def test_the_desk_state_of_a_call_another_node_bridges_is_what_its_events_said(start_lab: Any) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30)
    calls = lab.runtime.calls
    at = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    held = RuntimeEvent(RuntimeEventKind.STATE_CHANGED, at, "1002", "c7", "555", "general", "call held",
                        node="node2")
    calls.remote.heard(held, DeskState(held=True))
    assert calls.local_desk("c7") is None
    assert calls.desk_state("c7") == DeskState(held=True)
    ended = RuntimeEvent(RuntimeEventKind.ENDED, at, "1002", "c7", "555", "general", node="node2")
    calls.remote.heard(ended, None)
    assert calls.desk_state("c7") is None
