"""The shipped flows (flows/*.yaml) walked through the interpreter with in-memory ports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ivr_engine.flow.interpreter import MASK, EndReason
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.ports import TransferOutcome
from ivr_engine.flow.simulator import SimClock, Simulation
from ivr_engine.prompts.catalogue import load_catalogue

from .fakes import Harness

ROOT = Path(__file__).parents[2]
# Wednesday 3 June 2026, 11:00 in New York: agents are in.
OPEN = datetime(2026, 6, 3, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def library() -> FlowLibrary:
    return FlowLibrary.from_paths([ROOT / "flows"])


@pytest.fixture
def harness(library: FlowLibrary) -> Harness:
    catalogue = load_catalogue(ROOT / "sounds" / "prompts.yaml")
    flows = [flow for name in library.names() if (flow := library.get(name)) is not None]
    h = Harness(clock=SimClock(OPEN), flows=flows)
    h.catalogue.texts.update({pid: catalogue.text(pid, "en") for pid in catalogue.ids("en")})
    return h


async def _run(
    harness: Harness, library: FlowLibrary, name: str, digits: str, caller: str = "15550001001"
) -> Simulation:
    flow = library.get(name)
    assert flow is not None
    return await harness.run(flow, digits, caller=caller)


async def test_balance_speaks_the_balance(harness: Harness, library: FlowLibrary) -> None:
    sim = await _run(harness, library, "balance", "100200#4321#")
    said = harness.said(sim)
    assert "[money] 1234.56" in said
    assert "Your available balance is" in said
    assert {e.node: e.input for e in harness.sink.events}["ask_pin"] == MASK


async def test_balance_locks_out_after_three_failed_tries(harness: Harness, library: FlowLibrary) -> None:
    wrong = "100200#1111#" * 3
    sim = await _run(harness, library, "balance", wrong + "9")
    nodes = [node for node, _ in harness.sink.path()]
    assert nodes.count("check_account") == 3
    assert "locked" in nodes
    assert nodes[-1] == "goodbye"
    assert any("For your security" in text for text in harness.said(sim))
    assert all("1111" not in (e.input or "") for e in harness.sink.events)


async def test_balance_after_lockout_offers_an_agent(harness: Harness, library: FlowLibrary) -> None:
    await _run(harness, library, "balance", "100200#1111#" * 3 + "0")
    request = harness.transferrer.requests[0]
    assert request.queue == "billing"
    assert request.variables["pin"] == MASK


async def test_order_status_adds_the_prefix_and_speaks_a_date(harness: Harness, library: FlowLibrary) -> None:
    sim = await _run(harness, library, "order_status", "1001#")
    assert harness.lookups.calls == [("order_status", {"order": "A1001"})]
    said = harness.said(sim)
    assert "shipped." in said
    assert "[date] 2026-12-01" in said


async def test_points_speaks_the_points(harness: Harness, library: FlowLibrary) -> None:
    sim = await _run(harness, library, "points", "88001234#")
    assert "[number] 4520" in harness.said(sim)
    assert "Thank you, Alice Chen." in harness.said(sim)


async def test_main_greets_by_name_and_gives_vip_priority(harness: Harness, library: FlowLibrary) -> None:
    harness.transferrer.outcome = TransferOutcome.COMPLETED
    harness.transferrer.agent = "1003"
    sim = await _run(harness, library, "main", "0" + "543")
    assert "Hello Alice Chen." in harness.said(sim)
    request = harness.transferrer.requests[0]
    assert (request.queue, request.priority) == ("general", 10)
    assert [a[2:] for a in harness.surveys.answers] == [
        ("agent", 5, "1003"), ("resolved", 4, "1003"), ("recommend", 3, "1003")
    ]
    assert sim.result.reason is EndReason.COMPLETED


async def test_main_unknown_caller_gets_normal_priority(harness: Harness, library: FlowLibrary) -> None:
    await _run(harness, library, "main", "0", caller="15557770000")
    assert harness.transferrer.requests[0].priority == 0


async def test_main_menu_sub_flow_returns_to_anything_else(harness: Harness, library: FlowLibrary) -> None:
    await _run(harness, library, "main", "3" + "88001234#" + "9" + "9")
    flows_and_nodes = [(e.flow, e.node) for e in sorted(harness.sink.events, key=lambda e: e.seq)]
    assert ("points", "back") in flows_and_nodes
    assert flows_and_nodes[-2:] == [("main", "anything_else"), ("main", "goodbye")]


async def test_busy_agents_lead_to_voicemail(harness: Harness, library: FlowLibrary) -> None:
    await _run(harness, library, "main", "0#")
    assert len(harness.voicemails.saved) == 1
    assert harness.voicemails.saved[0][2] == "general"


async def test_after_hours_goes_to_voicemail_without_queueing(harness: Harness, library: FlowLibrary) -> None:
    harness.clock = SimClock(datetime(2026, 12, 25, 15, 0, tzinfo=UTC))  # Christmas Day
    await _run(harness, library, "main", "0#")
    assert harness.transferrer.requests == []
    assert ("check_hours", "closed") in harness.sink.path()
    assert len(harness.voicemails.saved) == 1


async def test_main_invalid_choices_end_with_an_agent(harness: Harness, library: FlowLibrary) -> None:
    await _run(harness, library, "main", "777")
    assert ("main_menu", "invalid") in harness.sink.path()
    assert len(harness.transferrer.requests) == 1


@pytest.mark.parametrize("keys", ["*", "12*", "A", "1B2C3D", "*0#"])
async def test_line_check_reads_back_star_and_letters(
    harness: Harness, library: FlowLibrary, keys: str
) -> None:
    sim = await _run(harness, library, "demo", keys if keys.endswith("#") else keys + "#")
    entered = keys.removesuffix("#")
    assert sim.result.reason is EndReason.COMPLETED, sim.result.error
    path = [("ask", "next"), ("read_back", "next"), ("bye", "next"), ("end", "completed")]
    assert harness.sink.path() == path
    assert f"[digits] {entered}" in harness.said(sim)


async def test_survey_flow_stores_three_answers(harness: Harness, library: FlowLibrary) -> None:
    sim = await _run(harness, library, "survey", "4T53")  # no answer to question two at first
    assert [a[2:4] for a in harness.surveys.answers] == [("agent", 4), ("resolved", 5), ("recommend", 3)]
    said = harness.said(sim)
    resolved = said.index(harness.catalogue.texts["survey_q_resolved"])
    assert said[resolved + 1 : resolved + 3] == [  # no input: "we did not hear", not "invalid"
        harness.catalogue.texts["no_input"],
        harness.catalogue.texts["survey_q_resolved"],
    ]
    assert harness.catalogue.texts["survey_invalid"] not in said


async def test_voicemail_flow_saves_the_message(harness: Harness, library: FlowLibrary) -> None:
    sim = await _run(harness, library, "voicemail", "#")
    assert len(harness.voicemails.saved) == 1
    assert sim.result.reason is EndReason.COMPLETED
