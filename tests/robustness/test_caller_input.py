"""Caller input the flows never expected, through the real interpreter and the shipped flows: floods of
keys, absurd digit strings, silence at every prompt. Every call must reach an exit the flows define."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr_engine.flow.interpreter import MAX_STEPS, EndReason
from ivr_engine.flow.simulator import Simulation

from .fakes import INPUT_NODES, LIBRARY, Memory, run_script

ROBUST = settings.get_profile("robustness")
SERVICE_FLOWS = ["main", "balance", "order_status", "points", "voicemail", "survey", "agent"]
KEYS = "0123456789*#ABCD"


def _assert_defined_exit(flow: str, sim: Simulation, memory: Memory, script_left: bool) -> None:
    """The call ended at a hangup node, or the caller left while a node waited for input."""
    result = sim.result
    assert result.reason is not EndReason.ERROR, result.error
    assert result.steps < MAX_STEPS
    events = sorted(memory.events, key=lambda e: e.seq)
    assert events, "no node was entered"
    for event in events:
        defined = LIBRARY.get(event.flow)
        assert defined is not None, event
        assert event.node in defined.nodes, event
    last = events[-1]
    if result.reason is EndReason.COMPLETED:
        assert (last.node_type, last.outcome) in {("hangup", "completed"), ("return", "return")}, last
    else:
        assert not script_left, "the simulated caller hangs up only when the script is used up"
        assert last.outcome == "hangup", last
        assert last.node_type in INPUT_NODES, last


scripts = st.text(alphabet=KEYS + "T", max_size=200)
absurd = st.sampled_from(["*", "#", "A", "B", "C", "D", "0", "9", "T", "*#", "AD#", "1"]).map(
    lambda unit: unit * 400
) | st.integers(min_value=13, max_value=600).map(lambda n: "7" * n + "#")


@settings(ROBUST, max_examples=60)
@given(flow=st.sampled_from(SERVICE_FLOWS), script=scripts | absurd)
async def test_any_script_reaches_a_defined_exit(flow: str, script: str) -> None:
    sim, memory, channel = await run_script(flow, script)
    _assert_defined_exit(flow, sim, memory, channel._position < len(channel.script))


@settings(ROBUST, max_examples=10)
@given(keys=st.text(alphabet=KEYS, min_size=3000, max_size=5000))
async def test_a_flood_of_keys_ends_the_call_where_the_flows_say(keys: str) -> None:
    sim, memory, channel = await run_script("main", keys)
    _assert_defined_exit("main", sim, memory, channel._position < len(channel.script))


@pytest.mark.parametrize("flow", SERVICE_FLOWS)
async def test_silence_at_every_prompt_retries_then_exits(flow: str) -> None:
    sim, memory, _ = await run_script(flow, "T" * 200)
    assert sim.result.reason is EndReason.COMPLETED, sim.result
    path = memory.path()
    assert path[-1][1:] == ("goodbye", "completed"), path
    for event in memory.events:
        if event.node_type in {"menu", "gather"}:
            assert event.outcome == "timeout", event


async def test_silence_in_the_main_menu_goes_to_an_agent_after_three_tries() -> None:
    _sim, memory, channel = await run_script("main", "T" * 200)
    path = memory.path()
    assert ("main", "main_menu", "timeout") in path
    assert ("main", "agent", "completed") in path  # on_fail: agent
    assert ("agent", "check_hours", "open") in path
    assert path[-1] == ("agent", "goodbye", "completed")
    timeouts = [e for e in channel.transcript if e.kind.value == "timeout"]
    assert len(timeouts) == 3  # the main menu asked three times; the agent flow asked nothing
    assert memory.voicemails == ["general"]  # nobody free: the caller was offered voicemail


async def test_balance_silence_path_is_no_entry_then_goodbye() -> None:
    _sim, memory, _ = await run_script("balance", "T" * 50)
    assert [node for _, node, _ in memory.path()] == [
        "start", "ask_account", "no_entry", "offer_agent", "goodbye",
    ]  # fmt: skip


async def test_a_500_digit_account_number_locks_out_after_three_tries() -> None:
    _sim, memory, _ = await run_script("balance", "7" * 500 + "#")
    nodes = [node for _, node, _ in memory.path()]
    assert nodes.count("check_account") == 3
    assert nodes[-3:] == ["locked", "offer_agent", "goodbye"]
    accounts = [params["account"] for name, params in memory.lookups if name == "account_auth"]
    assert all(len(account) == 12 for account in accounts)  # max_digits bounds what reaches the lookup


@pytest.mark.parametrize("key", ["*", "#", "A", "D"])
async def test_keys_the_menu_does_not_offer_are_invalid_then_on_fail(key: str) -> None:
    _sim, memory, _ = await run_script("balance", "100200#4321#" + key * 10)
    after = [outcome for _, node, outcome in memory.path() if node == "after_balance"]
    assert after == ["invalid"]
    assert memory.path()[-1][1:] == ("goodbye", "completed")


async def test_no_input_at_all_means_the_caller_left_at_the_first_question() -> None:
    sim, memory, _ = await run_script("main", "")
    assert sim.result.reason is EndReason.CALLER_HUNG_UP
    assert memory.path() == [
        ("main", "identify", "not_found"), ("main", "welcome", "next"), ("main", "main_menu", "hangup"),
    ]  # fmt: skip


async def test_a_very_long_call_loops_the_menu_and_still_ends_cleanly() -> None:
    sim, memory, _ = await run_script("balance", "100200#4321#" + "1" * 2000 + "9")
    assert sim.result.reason is EndReason.COMPLETED
    assert [node for _, node, _ in memory.path()].count("say_balance") == 2001
    assert memory.path()[-1][1:] == ("goodbye", "completed")


async def test_a_call_past_the_step_limit_ends_with_an_error_not_a_hang() -> None:
    sim, _memory, channel = await run_script("balance", "100200#4321#" + "1" * MAX_STEPS + "9")
    assert sim.result.reason is EndReason.ERROR
    assert f"more than {MAX_STEPS} nodes" in sim.result.error
    assert sim.result.steps == MAX_STEPS + 1
    assert not channel.hung_up  # left up for the service's apology, as run_flow documents
