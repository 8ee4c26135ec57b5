"""End to end on the real lab: a SIPp caller dials the line check (199) and ``ivr serve`` handles it."""

from __future__ import annotations

import asyncio

import pytest

from ivr_engine.lab.sipp import CallerScript, HangupBy

from .conftest import Lab
from .flow_calls import call_ids, calls_list, finished_call, node_path

pytestmark = pytest.mark.lab



async def test_line_check_call_is_answered_digits_arrive_in_order_app_hangs_up(lab: Lab) -> None:
    before, calls_before = len(lab.events()), call_ids(lab)
    result = await lab.call(CallerScript(number="199", caller_id="5550199", digits="4211#", timeout_s=60))

    assert result.ok, result.describe()
    assert result.answered == 1
    assert result.digits_sent == "4211#"
    assert result.hangup_by == HangupBy.FAR_END, result.describe()

    events = lab.events()[before:]
    start = next(e for e in events if e["type"] == "StasisStart")
    assert start["args"] == ["199"]
    call = [e for e in events if e["channel"] == start["channel"]]
    assert [e["type"] for e in call].count("ChannelDtmfReceived") == 5  # the event log lists no values
    assert [e["type"] for e in call][-1] in {"StasisEnd", "ChannelDestroyed"}
    shown = await finished_call(lab, calls_before, "5550199", "199")
    assert shown["call_id"] == start["channel"]
    inputs = {step["node"]: step["input"] for step in shown["path"]}
    assert inputs["ask"] == "4211"  # in order: the node log has them

    channels, bridges = await lab.leftovers()
    assert channels == []
    assert bridges == []


async def test_line_check_reads_back_a_star(lab: Lab) -> None:
    """``*`` is a key like any other: read back as "star" by Asterisk, not an apology."""
    caller = "5550198"
    before_calls = call_ids(lab)
    result = await lab.call(CallerScript(number="199", caller_id=caller, digits="4*2#", timeout_s=60))

    assert result.ok, result.describe()
    assert result.hangup_by == HangupBy.FAR_END, result.describe()
    call = await finished_call(lab, before_calls, caller, "199")
    assert node_path(call) == [
        ("demo", "ask", "next"), ("demo", "read_back", "next"), ("demo", "bye", "next"),
        ("demo", "end", "completed"),
    ]  # fmt: skip
    read_back = next(step for step in call["path"] if step["node"] == "read_back")
    assert read_back["input"] == "4*2"
    assert "digits/star" in lab.paths.full_log.read_text(errors="replace")


async def test_calls_in_parallel_each_get_their_own_digits(lab: Lab) -> None:
    """Callers hang up themselves here: what the flow does with the keys is not the point. Caller ``i``
    presses ``i + 2`` keys; the event log lists no key values, so each call's key count tells them apart."""
    before = len(lab.events())
    scripts = [
        CallerScript(number="100", caller_id=f"555020{i}", digits=f"{i}" * (i + 1) + "#", hangup_after_s=2,
                     timeout_s=60)
        for i in range(3)
    ]  # fmt: skip
    results = await asyncio.gather(*(lab.call(s) for s in scripts))

    assert all(r.ok for r in results), [r.describe() for r in results]
    events = lab.events()[before:]
    keys_per_channel: dict[str, int] = {}
    for event in events:
        if event["type"] == "ChannelDtmfReceived":
            keys_per_channel[event["channel"]] = keys_per_channel.get(event["channel"], 0) + 1
    callers = {row["call_id"]: row["caller"] for row in calls_list(lab)}
    assert {callers[channel]: keys for channel, keys in keys_per_channel.items()} == {
        "5550200": 2, "5550201": 3, "5550202": 4,
    }  # fmt: skip
    assert await lab.leftovers() == ([], [])
