"""The live ACD against the fake ARI: offers, bridging, no-answer, unreachable, abandon, overflow,
callback, no agents, and that no bridge or channel is left behind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

import acd
from acd.live import RuntimeEventKind
from acd.records.rows import QueueOutcome
from ivr_engine.config import Settings

if TYPE_CHECKING:
    from .conftest import Lab


async def test_offer_originates_agent_then_answer_bridges_and_agent_hangup_completes(start_lab: Any) -> None:
    lab: Lab = await start_lab()
    await lab.runtime.login("1003")
    await lab.fake.incoming("c1", "100", caller="555")
    await lab.until(lambda: lab.legs("c1"))
    (leg, endpoint), = lab.legs("c1")
    assert endpoint == "PJSIP/1003"
    assert lab.state("1003") is acd.AgentState.RINGING

    await lab.agent_answers(leg, "c1")
    await lab.until(lambda: lab.fake.bridges.get("acd-c1", {}).get("channels") == sorted(["c1", leg]))
    assert lab.fake.bridges["acd-c1"]["bridge_type"] == "mixing"
    assert lab.state("1003") is acd.AgentState.ON_CALL
    assert lab.runtime.agent_of("c1") == "1003"

    await lab.fake.caller_hangup(leg)  # the agent hangs up first
    await lab.until(lambda: "c1" in lab.outcomes)
    assert lab.outcomes["c1"] == "completed"
    await lab.service.wait_idle()
    await lab.runtime.drain()
    assert lab.fake.bridges == {}
    assert lab.fake.channels == {}
    assert lab.state("1003") is acd.AgentState.READY  # wrap-up of 0 s
    assert [f["agent_id"] for f in lab.facts.of("answered")] == ["1003"]
    assert [f["outcome"] for f in lab.facts.of("ended")] == [QueueOutcome.ANSWERED]
    assert lab.runtime.agent_of("c1") == "1003"


async def test_caller_hangup_while_bridged_hangs_up_agent_and_destroys_bridge(start_lab: Any) -> None:
    lab: Lab = await start_lab(wrap_up_seconds=30)
    await lab.runtime.login("1001")
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: lab.legs("c1"))
    leg = lab.legs("c1")[0][0]
    await lab.agent_answers(leg, "c1")
    await lab.until(lambda: "acd-c1" in lab.fake.bridges and len(lab.fake.bridges["acd-c1"]["channels"]) == 2)
    await lab.fake.caller_hangup("c1")
    await lab.until(lambda: "c1" in lab.outcomes)
    await lab.service.wait_idle()
    assert lab.outcomes["c1"] == "hangup"
    assert lab.fake.calls("DELETE", f"/channels/{leg}")
    assert lab.fake.bridges == {}
    assert lab.fake.channels == {}
    assert lab.state("1001") is acd.AgentState.WRAP_UP


async def test_no_answer_pauses_agent_and_rings_the_next(start_lab: Any) -> None:
    lab: Lab = await start_lab(ring_timeout=0.3)
    await lab.runtime.login("1001")
    await lab.runtime.login("1002")
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: len(lab.legs("c1")) == 2)
    (first, first_ep), (second, second_ep) = lab.legs("c1")
    assert (first_ep, second_ep) == ("PJSIP/1001", "PJSIP/1002")  # longest idle first
    assert lab.fake.calls("DELETE", f"/channels/{first}")  # stopped ringing
    agent = lab.runtime.engine.agent("1001")
    assert agent.state is acd.AgentState.PAUSED
    assert agent.pause_reason == acd.NO_ANSWER
    assert lab.state("1002") is acd.AgentState.RINGING
    await lab.agent_answers(second, "c1")
    await lab.until(lambda: lab.runtime.agent_of("c1") == "1002")


async def test_unreachable_endpoint_is_skipped_at_once(start_lab: Any) -> None:
    lab: Lab = await start_lab(ring_timeout=10)
    lab.fake.endpoint_states["PJSIP/1001"] = "offline"
    await lab.runtime.login("1001")
    await lab.runtime.login("1002")
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: lab.legs("c1"))
    assert [ep for _, ep in lab.legs("c1")] == ["PJSIP/1002"]  # 1001 never rung, no 10 s wait
    assert lab.runtime.engine.agent("1001").pause_reason == acd.NO_ANSWER


async def test_rejecting_phone_moves_on_to_the_next_agent_at_once(start_lab: Any) -> None:
    lab: Lab = await start_lab(ring_timeout=10)
    await lab.runtime.login("1001")
    await lab.runtime.login("1002")
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: lab.legs("c1"))
    leg = lab.legs("c1")[0][0]
    await lab.until(lambda: leg in lab.fake.channels)  # recorded by the fake before it is made
    channel = lab.fake.channels.pop(leg)
    await lab.fake.push({"type": "ChannelDestroyed", "cause": 21, "cause_txt": "Call Rejected",
                         "channel": channel})
    await lab.until(lambda: len(lab.legs("c1")) == 2)
    assert lab.legs("c1")[1][1] == "PJSIP/1002"
    assert lab.state("1001") is acd.AgentState.PAUSED


async def test_abandon_while_waiting_is_recorded(start_lab: Any) -> None:
    lab: Lab = await start_lab()
    await lab.runtime.login("1001")
    await lab.runtime.pause("1001", "lunch")
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: lab.runtime.waiting_calls())
    await lab.fake.caller_hangup("c1")
    await lab.until(lambda: "c1" in lab.outcomes)
    await lab.runtime.drain()
    assert lab.outcomes["c1"] == "hangup"
    assert lab.runtime.waiting_calls() == []
    assert [f["outcome"] for f in lab.facts.of("ended")] == [QueueOutcome.ABANDONED]
    assert lab.legs("c1") == []


async def test_max_wait_overflows(start_lab: Any) -> None:
    lab: Lab = await start_lab(max_wait=0.3)
    await lab.runtime.login("1001")
    await lab.runtime.pause("1001", "lunch")
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: "c1" in lab.outcomes)
    await lab.runtime.drain()
    assert lab.outcomes["c1"] == "overflow"
    assert [f["outcome"] for f in lab.facts.of("ended")] == [QueueOutcome.OVERFLOW]
    assert lab.runtime.waiting_calls() == []


async def test_callback_key_books_a_callback_that_keeps_the_place_in_line(start_lab: Any) -> None:
    lab: Lab = await start_lab()
    await lab.runtime.login("1001")
    await lab.runtime.pause("1001", "lunch")
    await lab.fake.incoming("c1", "100", caller="555")
    await lab.until(lambda: lab.runtime.waiting_calls())
    enqueued = lab.runtime.waiting_calls()[0].enqueued_at
    await lab.fake.dtmf("c1", "1")
    await lab.until(lambda: "c1" in lab.outcomes)
    await lab.runtime.drain()
    assert lab.outcomes["c1"] == "callback"
    (booked,) = lab.facts.of("callback")
    assert booked["number"] == "555"
    assert booked["queue"] == "general"
    assert abs(booked["requested"].timestamp() - enqueued) < 1e-3  # the enqueue time, not the key press
    assert [f["outcome"] for f in lab.facts.of("ended")] == [QueueOutcome.CALLBACK]


async def test_other_keys_do_not_book_a_callback(start_lab: Any) -> None:
    lab: Lab = await start_lab(max_wait=0.6)
    await lab.runtime.login("1001")
    await lab.runtime.pause("1001", "lunch")
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: lab.runtime.waiting_calls())
    await lab.fake.dtmf("c1", "7")
    await lab.until(lambda: "c1" in lab.outcomes)
    assert lab.outcomes["c1"] == "overflow"


async def test_nobody_logged_in_gives_no_agents_at_once(start_lab: Any) -> None:
    lab: Lab = await start_lab()
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: "c1" in lab.outcomes, wait=1.0)
    await lab.runtime.drain()
    assert lab.outcomes["c1"] == "no_agents"
    assert lab.legs("c1") == []
    assert [f["outcome"] for f in lab.facts.of("ended")] == [QueueOutcome.NO_AGENTS]


async def test_state_changes_are_recorded_and_published(start_lab: Any) -> None:
    lab: Lab = await start_lab()
    events = lab.runtime.subscribe()
    await lab.runtime.login("1002")
    await lab.runtime.pause("1002", "training")
    await lab.runtime.drain()
    states = [(f["agent_id"], f["from_state"], f["to_state"], f["reason"]) for f in lab.facts.of("state")]
    assert states == [("1002", "logged_out", "ready", "login"), ("1002", "ready", "paused", "training")]
    seen = [await anext(events), await anext(events)]
    assert [e.kind for e in seen] == [RuntimeEventKind.STATE_CHANGED] * 2
    assert seen[1].detail == "ready -> paused: training"
    await events.aclose()
    with pytest.raises(acd.InvalidTransition, match="1003"):
        await lab.runtime.logout("1003")


async def test_runtime_builds_from_the_project_acd_yaml(migrated_settings: Settings) -> None:
    """On the SQL store of the service's database (the default ``acd_store``)."""
    from acd.live import acd_runtime
    from ivr_engine.ari.client import AriClient
    from ivr_engine.ari.fake import FakeAri

    assert migrated_settings.acd_store == "sql"
    fake = FakeAri()
    await fake.start()
    client = AriClient.open(fake.config)
    try:
        async with acd_runtime(migrated_settings, client) as runtime:
            assert [a.id for a in runtime.agents()] == ["1001", "1002", "1003"]
            assert [s.queue for s in runtime.queue_statuses()] == ["billing", "general", "loyalty", "orders"]
    finally:
        await client.close()
        await fake.close()
