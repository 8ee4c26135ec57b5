"""Planning ``ivr flows test --live`` for the cases that need agents and for a sub-flow's cases (no lab:
the simulator and the demo data only); the calls themselves run in tests/lab/test_flow_cases_live.py."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

import acd
from ivr_engine.commands.flow_tests import demo_database
from ivr_engine.commands.live_flow_tests import _plan_all, _Planned
from ivr_engine.config import PROJECT_ROOT, Settings
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.lab.live_agents import lab_agent_count, live_acd_file
from ivr_engine.lab.live_entry import Entry, find_entry, keys_to_call, split_path
from ivr_engine.lab.live_plan import CALLBACK_AFTER_S, CALLBACK_KEY, AgentNeed, LivePlan

TESTS = PROJECT_ROOT / "flows" / "tests"
SHIPPED = FlowLibrary.from_paths([PROJECT_ROOT / "flows"])


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, _Planned]:
    folder = tmp_path_factory.mktemp("live-plan")
    settings = Settings(state_dir=folder, database_url=demo_database(folder))
    problems, found = asyncio.run(_plan_all([TESTS / "agent.yaml", TESTS / "main.yaml"], settings))
    assert not problems
    return {item.case.name: item for item in found}


def _plan(planned: dict[str, _Planned], name: str) -> LivePlan:
    item = planned[name]
    assert item.plan is not None, (item.skipped, item.broken)
    return item.plan


def test_no_shipped_agent_or_main_case_is_skipped_or_broken(planned: dict[str, _Planned]) -> None:
    assert [(n, p.skipped, p.broken) for n, p in planned.items() if p.plan is None] == []


def test_each_transfer_outcome_asks_for_the_agents_that_give_it(planned: dict[str, _Planned]) -> None:
    needs = {name: _plan(planned, name).agents for name in planned}
    assert needs["an answered call goes on to the survey"] is AgentNeed.READY
    assert needs["zero reaches an agent, then the caller answers the survey"] is AgentNeed.READY
    assert needs["a booked callback is confirmed"] is AgentNeed.PAUSED
    assert needs["waiting too long offers a voicemail"] is AgentNeed.PAUSED
    assert needs["an invalid key three times goes to an agent, who is busy"] is AgentNeed.NONE
    # closed hours: the call never reaches a transfer, so any agents will do
    assert needs["on Sunday the caller may leave a voicemail"] is AgentNeed.ANY
    assert needs["a known caller is greeted by name, hears the balance and leaves"] is AgentNeed.ANY


def test_the_agent_sub_flow_is_reached_from_main_by_zero(planned: dict[str, _Planned]) -> None:
    plan = _plan(planned, "a booked callback is confirmed")
    assert plan.number == "100"
    assert plan.entry == Entry("100", "0", ("main", "agent"))
    assert plan.around is not None
    assert plan.around.before == ("identify", "welcome", "main_menu", "agent")
    assert plan.around.sub == ("check_hours", "route", "to_general", "callback_booked", "goodbye")
    assert plan.around.after == ()
    assert plan.items[0].key == "0"


def test_the_callback_key_is_pressed_on_hold_in_the_transfer_node(planned: dict[str, _Planned]) -> None:
    plan = _plan(planned, "a booked callback is confirmed")
    keys = [item for item in plan.items if item.key]
    assert [k.key for k in keys] == ["0", CALLBACK_KEY.value]
    assert (keys[1].node, keys[1].on_hold, keys[1].after_s) == ("agent/to_general", True, CALLBACK_AFTER_S)
    assert not keys[0].on_hold
    assert plan.answer_keys == (0, 1)


def test_the_first_input_after_an_agent_waits_for_its_node(planned: dict[str, _Planned]) -> None:
    plan = _plan(planned, "zero reaches an agent, then the caller answers the survey")
    keys = [item for item in plan.items if item.key]
    assert [(k.key, k.node) for k in keys] == [
        ("0", ""), ("5", "survey/questions"), ("4", ""), ("3", "")
    ]
    assert all(k.after_s == 0 and k.quiet_s > 0 for k in keys)  # node, then the prompt, then quiet


def test_the_overflow_caller_speaks_into_voicemail_after_the_queue(planned: dict[str, _Planned]) -> None:
    plan = _plan(planned, "waiting too long offers a voicemail")
    assert [(i.key, i.node) for i in plan.items] == [
        ("0", ""), ("", "voicemail/record_message"), ("#", "")
    ]


def test_keys_to_call_takes_the_fewest_menu_keys() -> None:
    main = SHIPPED.get("main")
    assert main is not None
    assert keys_to_call(main, "agent") == "0"
    assert keys_to_call(main, "balance") == "1"
    assert keys_to_call(main, "survey") is None  # only through agent, a call of its own


def test_find_entry_picks_the_shortest_chain_then_the_lower_number() -> None:
    numbers = {"100": "main", "101": "balance", "200": "main_zh"}
    assert find_entry("agent", SHIPPED, numbers) == Entry("100", "0", ("main", "agent"))
    assert find_entry("agent", SHIPPED, {"200": "main_zh"}) == Entry("200", "0", ("main_zh", "agent"))
    assert find_entry("agent", SHIPPED, {}) is None


def test_split_path_names_each_part_as_its_flow_does() -> None:
    steps = [("main", "menu"), ("main", "agent"), ("agent", "route"), ("survey", "intro"),
             ("agent", "goodbye"), ("main", "anything_else")]  # fmt: skip
    parts = split_path(steps, Entry("100", "0", ("main", "agent")))
    assert parts.before == ("menu", "agent")
    assert parts.sub == ("route", "survey/intro", "goodbye")
    assert parts.after == ("anything_else",)



def test_the_live_acd_file_only_cuts_max_wait(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    written = live_acd_file(settings, 15)
    assert written == tmp_path / "live-acd.yaml"
    own, live = acd.load_acd_config(settings.agents_file), acd.load_acd_config(written)
    assert live.agents == own.agents
    assert [q.max_wait for q in own.queues] == [120] * 4
    assert live.queues == tuple(replace(q, max_wait=15) for q in own.queues)
    assert lab_agent_count(replace(settings, agents_file=written)) == 3  # 1001-1003 have lab phones
