"""Consult transfer in the live runtime against the fake ARI: the caller on music while the target's
phone rings, the two agents in a consult bridge once the target answers; complete hands the call to the
target (the first agent wraps up), cancel, no answer and the target hanging up bring the caller back to
the first agent; the caller hanging up during the consult ends everything. A consult is not a queue
call: the call is queued, answered and ended once in the facts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

import acd
from acd.live.controls import ControlConflict, NotOnThisCall, UnknownTarget
from acd.records.rows import QueueOutcome

if TYPE_CHECKING:
    from .conftest import Lab

S = acd.AgentState


async def _bridged(lab: Lab, agent_id: str, call_id: str = "c1") -> str:
    await lab.runtime.login(agent_id)
    await lab.fake.incoming(call_id, "100", caller="555")
    await lab.until(lambda: lab.legs(call_id))
    leg = lab.legs(call_id)[-1][0]
    await lab.agent_answers(leg, call_id)
    await lab.until(lambda: _channels(lab, f"acd-{call_id}") == sorted([call_id, leg]))
    return leg


def _channels(lab: Lab, bridge: str) -> list[str] | None:
    found = lab.fake.bridges.get(bridge)
    return None if found is None else list(found["channels"])


async def _consulting(lab: Lab) -> tuple[str, str]:
    """1003 has c1 and consults 1002, who answers: (1003's leg, 1002's consult leg)."""
    first = await _bridged(lab, "1003")
    await lab.runtime.login("1002")
    consult = await lab.runtime.consults.start("1003", "c1", "1002")
    assert consult.state == "ringing"
    await lab.until(lambda: lab.legs("c1.consult"))
    (target_leg, endpoint) = lab.legs("c1.consult")[0]
    assert endpoint == "PJSIP/1002"
    assert lab.fake.moh == {"c1": "default"}  # the caller hears music while the target rings
    assert _channels(lab, "acd-c1") == [first]
    assert lab.state("1002") is S.RINGING
    await lab.agent_answers(target_leg, "c1.consult")
    await lab.until(lambda: _channels(lab, "consult-c1") == sorted([first, target_leg]))
    assert _channels(lab, "acd-c1") == []
    # the consult is "talking" once the runtime has the answer to its add to the consult bridge, which
    # can come after the fake shows both legs in it
    await lab.until(lambda: consult.state == "talking")
    assert lab.state("1002") is S.ON_CALL
    return first, target_leg


async def test_complete_hands_the_caller_to_the_target_and_the_first_agent_wraps_up(start_lab: Any) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30, ring_timeout=5)
    calls, consults = lab.runtime.calls, lab.runtime.consults
    first, target_leg = await _consulting(lab)
    with pytest.raises(ControlConflict):
        await calls.hold("1003", "c1")  # no hold, resume or blind transfer during a consult
    with pytest.raises(ControlConflict):
        await calls.transfer("1003", "c1", queue="general")
    with pytest.raises(ControlConflict):
        await consults.start("1003", "c1", "1001")  # one consult at a time

    assert await consults.complete("1003", "c1") == "1002"
    assert _channels(lab, "acd-c1") == sorted(["c1", target_leg])
    assert "consult-c1" not in lab.fake.bridges
    assert lab.fake.moh == {}
    await lab.until(lambda: lab.fake.calls("DELETE", f"/channels/{first}"))
    assert lab.state("1003") is S.WRAP_UP
    target = lab.runtime.engine.agent("1002")
    assert (target.state, target.current_call, target.calls_taken) == (S.ON_CALL, "c1", 1)
    assert lab.runtime.agent_of("c1") == "1002"
    assert calls.consulting("c1") is None

    await calls.hold("1002", "c1")  # the target has the call and its controls now
    await calls.resume("1002", "c1")
    await lab.fake.caller_hangup(target_leg)
    await lab.until(lambda: "c1" in lab.outcomes)
    assert lab.outcomes["c1"] == "completed"
    assert lab.state("1002") is S.WRAP_UP
    await lab.runtime.drain()
    assert [f["agent_id"] for f in lab.facts.of("answered")] == ["1003"]  # counted once, for the queue
    assert [(f["call_id"], f["outcome"]) for f in lab.facts.of("ended")] == [("c1", QueueOutcome.ANSWERED)]
    assert len(lab.facts.of("enqueued")) == 1


async def test_cancel_brings_the_caller_back_to_the_first_agent_and_frees_the_target(start_lab: Any) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30, ring_timeout=5)
    first, target_leg = await _consulting(lab)
    with pytest.raises(NotOnThisCall):
        await lab.runtime.consults.cancel("1002", "c1")  # not the target's call to cancel
    await lab.runtime.consults.cancel("1003", "c1")
    assert _channels(lab, "acd-c1") == sorted(["c1", first])
    assert "consult-c1" not in lab.fake.bridges
    assert lab.fake.moh == {}
    assert lab.fake.calls("DELETE", f"/channels/{target_leg}")
    assert lab.state("1002") is S.READY
    assert lab.state("1003") is S.ON_CALL
    assert not lab.runtime.calls.held("c1")
    with pytest.raises(ControlConflict):
        await lab.runtime.consults.complete("1003", "c1")  # nothing to complete any more
    await lab.runtime.calls.hold("1003", "c1")  # the ordinary controls are back


async def test_target_hanging_up_during_the_consult_brings_the_caller_back(start_lab: Any) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30, ring_timeout=5)
    first, target_leg = await _consulting(lab)
    await lab.fake.caller_hangup(target_leg)
    await lab.until(lambda: _channels(lab, "acd-c1") == sorted(["c1", first]))
    await lab.until(lambda: lab.fake.moh == {})
    await lab.until(lambda: "consult-c1" not in lab.fake.bridges)  # dropped after the caller is back
    await lab.until(lambda: lab.state("1002") is S.READY)
    assert lab.state("1003") is S.ON_CALL


async def test_target_not_answering_is_a_no_answer_and_the_caller_comes_back(start_lab: Any) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30, ring_timeout=0.5)
    first = await _bridged(lab, "1003")
    await lab.runtime.login("1002")
    await lab.runtime.consults.start("1003", "c1", "1002")
    with pytest.raises(ControlConflict):
        await lab.runtime.consults.complete("1003", "c1")  # not answered yet
    await lab.until(lambda: lab.legs("c1.consult"))
    target_leg = lab.legs("c1.consult")[0][0]
    # the ACD's ring timeout: the caller's music stops, then they are put back in the bridge, then the
    # target is freed; each step is its own ARI request, so wait for the last before reading the rest
    await lab.until(lambda: lab.state("1002") is S.PAUSED)  # "no answer", as after any unanswered offer
    await lab.until(lambda: _channels(lab, "acd-c1") == sorted(["c1", first]))
    assert lab.fake.moh == {}
    await lab.until(lambda: lab.fake.calls("DELETE", f"/channels/{target_leg}"))
    assert lab.runtime.engine.agent("1002").pause_reason == acd.NO_ANSWER
    assert lab.state("1003") is S.ON_CALL


async def test_caller_hanging_up_during_the_consult_ends_both_legs(start_lab: Any) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30, ring_timeout=5)
    first, target_leg = await _consulting(lab)
    await lab.fake.caller_hangup("c1")
    await lab.until(lambda: "c1" in lab.outcomes)
    await lab.service.wait_idle()
    assert lab.outcomes["c1"] == "hangup"
    assert lab.fake.calls("DELETE", f"/channels/{target_leg}")
    assert lab.fake.calls("DELETE", f"/channels/{first}")
    assert lab.fake.bridges == {}
    assert lab.state("1003") is S.WRAP_UP
    assert lab.state("1002") is S.READY


async def test_a_consult_needs_a_ready_agent_other_than_oneself(start_lab: Any) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30, ring_timeout=5)
    await _bridged(lab, "1003")
    consults = lab.runtime.consults
    with pytest.raises(UnknownTarget):
        await consults.start("1003", "c1", "9999")
    with pytest.raises(ControlConflict):
        await consults.start("1003", "c1", "1003")
    with pytest.raises(ControlConflict, match="not ready"):
        await consults.start("1003", "c1", "1002")  # logged out
    assert lab.fake.moh == {}  # the caller never went on hold
    assert not lab.legs("c1.consult")


async def test_a_consulted_agent_gets_no_queue_offer(start_lab: Any) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30, ring_timeout=5)
    await _consulting(lab)
    await lab.fake.incoming("c2", "100", caller="556")  # 1002 is the only agent who is not busy
    await lab.runtime.tick()
    await lab.runtime.drain()
    assert lab.legs("c2") == []
    assert lab.runtime.engine.store.offer("1002") is None
    await lab.runtime.consults.cancel("1003", "c1")
    await lab.until(lambda: lab.legs("c2"))  # ready again: the next tick offers 1002 the waiting call
    assert lab.legs("c2")[0][1] == "PJSIP/1002"
