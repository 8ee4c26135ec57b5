"""Balance (101), order status (102) and points (103) on real calls; the node log is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_engine.lab.paths import LabPaths
from ivr_engine.lab.sipp import CallerScript, HangupBy
from tests.masking import shows_value

from .conftest import Lab
from .flow_calls import call_ids, finished_call, generate, node_path, place, query

pytestmark = pytest.mark.lab

ALICE = "15550001001"



async def test_balance_path_with_pin_masked_everywhere(lab: Lab, tmp_path: Path) -> None:
    plan = generate(lab, tmp_path, "balance", "ask_account=100200#/ask_pin=4321#/after_balance=9", ALICE)
    before = call_ids(lab)

    result = await place(lab, plan)

    assert result.ok, result.describe()
    assert result.digits_sent == "100200#4321#9"
    assert result.hangup_by == HangupBy.FAR_END, result.describe()
    call = await finished_call(lab, before, ALICE, "101")
    path = node_path(call)
    assert path[:5] == [
        ("balance", "start", "next"),
        ("balance", "ask_account", "next"),
        ("balance", "ask_pin", "next"),
        ("balance", "check_account", "found"),
        ("balance", "say_balance", "next"),
    ]
    assert path == node_path(plan, "expected")
    inputs = {step["node"]: step["input"] for step in call["path"]}
    assert inputs["ask_account"] == "100200"
    assert inputs["ask_pin"] == "****"
    assert inputs["say_balance"] == "1234.56"
    rows = query(lab, "SELECT * FROM node_events WHERE call_id = :id", id=call["call_id"])
    assert len(rows) == len(path)
    assert not [row for row in rows if shows_value(" ".join(str(v) for v in row.values()), "4321")]
    service_log = LabPaths.for_state_dir(lab.settings.state_dir).log / "serve.log"
    assert not shows_value(service_log.read_text(), "4321")
    # "Your balance is" and the amount are one playback of several files: Asterisk sends no
    # PlaybackContinuing between them, as the service asked (UNREAD_EVENTS)
    # (which would be logged with no channel: ARI names only the playback's target)
    events = lab.events()
    assert [e["type"] for e in events if e["channel"] == call["call_id"]].count("PlaybackFinished") >= 4
    assert "PlaybackContinuing" not in {e["type"] for e in events}
    assert await lab.leftovers() == ([], [])


async def test_order_status_a1001_is_found(lab: Lab) -> None:
    caller = "15550002002"
    before = call_ids(lab)
    # 9 at the menu after the status and the delivery date have been spoken.
    pauses = (0, 0, 0, 0, 9000, 0)
    script = CallerScript(
        number="102", caller_id=caller, digits="1001#9", initial_wait_ms=5000, pauses_ms=pauses, timeout_s=60
    )

    result = await lab.call(script)

    assert result.ok, result.describe()
    call = await finished_call(lab, before, caller, "102")
    path = node_path(call)
    assert ("order_status", "ask_order", "next") in path
    assert ("order_status", "find_order", "found") in path
    inputs = {step["node"]: step["input"] for step in call["path"]}
    assert inputs["ask_order"] == "1001"
    assert inputs["say_delivery"] == "2026-12-01"
    assert path[-1] == ("order_status", "goodbye", "completed")
    assert await lab.leftovers() == ([], [])


async def test_points_card_88001234_is_found(lab: Lab, tmp_path: Path) -> None:
    caller = "15550003003"
    plan = generate(lab, tmp_path, "points", "88001234#/9", caller)
    before = call_ids(lab)

    result = await place(lab, plan)

    assert result.ok, result.describe()
    call = await finished_call(lab, before, caller, "103")
    path = node_path(call)
    assert ("points", "find_member", "found") in path
    assert {step["node"]: step["input"] for step in call["path"]}["say_points"] == "4520"
    assert path == node_path(plan, "expected")
    assert await lab.leftovers() == ([], [])


async def test_balance_locks_the_caller_out_politely_after_three_wrong_pins(lab: Lab, tmp_path: Path) -> None:
    caller = "15550006006"
    plan = generate(lab, tmp_path, "balance", "100200#/1111#/100200#/2222#/100200#/3333#/9", caller)
    before = call_ids(lab)

    result = await place(lab, plan)

    assert result.ok, result.describe()
    call = await finished_call(lab, before, caller, "101")
    path = node_path(call)
    assert path.count(("balance", "check_account", "not_found")) == 3
    assert ("balance", "locked", "next") in path
    assert path[-1] == ("balance", "goodbye", "completed")
    assert path == node_path(plan, "expected")
    inputs = " ".join(step["input"] or "" for step in call["path"])
    assert not any(pin in inputs for pin in ("1111", "2222", "3333")), inputs
    assert await lab.leftovers() == ([], [])
