"""Each node type through the real interpreter on a scripted channel, with in-memory ports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ivr_engine.channel import SayKind
from ivr_engine.flow.interpreter import MASK, EndReason
from ivr_engine.flow.ports import TransferOutcome
from ivr_engine.flow.simulator import SimClock

from .conftest import FlowMaker
from .fakes import Harness

MENU = """
nodes:
  menu:
    type: menu
    prompt: choose
    choices: {"1": one, "0": agent}
    retries: 2
    timeout: 4
    invalid: bad
    no_input: quiet
    on_fail: failed
  one: {type: hangup, prompt: bye}
  agent: {type: hangup}
  failed: {type: hangup, text: "giving up"}
"""


async def test_menu_takes_a_valid_digit(harness: Harness, make_flow: FlowMaker) -> None:
    harness.catalogue.texts.update(choose="Press 1 or 0.", bye="Goodbye.")
    sim = await harness.run(make_flow(MENU), "1")
    assert harness.sink.path() == [("menu", "one"), ("one", "completed")]
    assert harness.sink.events[0].input == "1"
    assert harness.said(sim) == ["Press 1 or 0.", "Goodbye."]
    assert sim.result.reason is EndReason.COMPLETED


async def test_each_node_is_announced_as_entered(harness: Harness, make_flow: FlowMaker) -> None:
    """The node a call is in reaches the node log when it is entered, so a crash still tells where."""
    await harness.run(make_flow(MENU), "1")
    entries = [(e.seq, e.node, e.node_type) for e in harness.sink.entries]
    assert entries == [(1, "menu", "menu"), (2, "one", "hangup")]
    for entry, event in zip(harness.sink.entries, harness.sink.events, strict=True):
        assert (entry.call_id, entry.seq, entry.flow, entry.entered) == (
            event.call_id, event.seq, event.flow, event.entered)


async def test_menu_retries_invalid_and_missing_input_then_exits(
    harness: Harness, make_flow: FlowMaker
) -> None:
    harness.catalogue.texts.update(choose="Choose.", bad="Not valid.", quiet="Did not hear you.")
    sim = await harness.run(make_flow(MENU), "7T9")
    assert harness.sink.path() == [("menu", "invalid"), ("failed", "completed")]
    said = harness.said(sim)
    assert said == ["Choose.", "Not valid.", "Choose.", "Did not hear you.", "Choose.", "giving up"]


async def test_menu_recovers_on_a_retry(harness: Harness, make_flow: FlowMaker) -> None:
    await harness.run(make_flow(MENU), "T0")
    assert harness.sink.path() == [("menu", "agent"), ("agent", "completed")]


async def test_menu_timeout_after_all_retries_is_logged_as_timeout(
    harness: Harness, make_flow: FlowMaker
) -> None:
    await harness.run(make_flow(MENU), "TTT")
    assert harness.sink.path()[0] == ("menu", "timeout")


async def test_caller_hangup_mid_node_is_logged_and_ends_cleanly(
    harness: Harness, make_flow: FlowMaker
) -> None:
    sim = await harness.run(make_flow(MENU), "")
    assert harness.sink.path() == [("menu", "hangup")]
    assert sim.result.reason is EndReason.CALLER_HUNG_UP
    assert sim.result.node == "menu"


GATHER = """
nodes:
  ask:
    type: gather
    prompt: enter
    into: account
    min_digits: 4
    max_digits: 6
    pattern: "1[0-9]+"
    retries: 1
    invalid: bad
    next: done
    on_fail: failed
  done: {type: hangup, text: "got {{ account }}"}
  failed: {type: hangup}
"""


async def test_gather_stores_digits_into_a_variable(harness: Harness, make_flow: FlowMaker) -> None:
    sim = await harness.run(make_flow(GATHER), "100200#")
    assert harness.sink.path() == [("ask", "next"), ("done", "completed")]
    assert harness.sink.events[0].input == "100200"
    assert sim.result.variables["account"] == "100200"
    assert "got 100200" in harness.said(sim)


async def test_gather_rejects_too_short_and_pattern_mismatch(harness: Harness, make_flow: FlowMaker) -> None:
    await harness.run(make_flow(GATHER), "12#9999#")
    assert harness.sink.path() == [("ask", "invalid"), ("failed", "completed")]


async def test_gather_ends_at_max_digits_without_terminator(harness: Harness, make_flow: FlowMaker) -> None:
    sim = await harness.run(make_flow(GATHER), "123456")
    assert sim.result.variables["account"] == "123456"


async def test_gather_inter_digit_timeout_keeps_the_digits(harness: Harness, make_flow: FlowMaker) -> None:
    sim = await harness.run(make_flow(GATHER), "1234T")
    assert sim.result.variables["account"] == "1234"


SENSITIVE = """
nodes:
  ask_pin:
    type: gather
    into: pin
    sensitive: true
    min_digits: 4
    max_digits: 4
    next: check
    on_fail: bye
  check:
    type: lookup
    query: account_auth
    params: {account: "100200", pin: "{{ pin }}"}
    found: copy
    not_found: bye
    error: bye
  copy:
    type: set
    values: {pin_copy: "{{ pin }}"}
    next: agent
  agent:
    type: transfer
    queue: general
    next: bye
  bye: {type: hangup}
"""


async def test_sensitive_input_is_masked_everywhere(harness: Harness, make_flow: FlowMaker) -> None:
    sim = await harness.run(make_flow(SENSITIVE), "4321")
    events = {e.node: e for e in harness.sink.events}
    assert events["ask_pin"].input == MASK
    assert events["check"].input == f"account=100200 pin={MASK}"
    assert harness.lookups.calls == [("account_auth", {"account": "100200", "pin": "4321"})]
    assert sim.result.variables["pin"] == MASK
    assert sim.result.variables["pin_copy"] == MASK
    assert harness.transferrer.requests[0].variables["pin"] == MASK
    assert all("4321" not in e.text for e in sim.transcript)
    assert all("4321" not in (e.input or "") for e in harness.sink.events)


LOOKUP = """
nodes:
  who:
    type: lookup
    query: customer_by_phone
    params: {phone: "{{ caller_id }}"}
    into: {customer_name: name}
    found: hello
    not_found: stranger
    error: oops
  hello: {type: hangup, text: "Hello {{ name }}"}
  stranger: {type: hangup, text: "Hello stranger"}
  oops: {type: hangup, text: "Sorry"}
"""


async def test_lookup_found_sets_mapped_variables(harness: Harness, make_flow: FlowMaker) -> None:
    sim = await harness.run(make_flow(LOOKUP))
    assert harness.said(sim) == ["Hello Alice Chen"]
    assert "vip" not in sim.result.variables  # only the fields named in `into`


async def test_lookup_not_found_and_error_exits(harness: Harness, make_flow: FlowMaker) -> None:
    flow = make_flow(LOOKUP)
    await harness.run(flow, caller="15559999999")
    assert harness.sink.path()[0] == ("who", "not_found")
    broken = Harness()
    broken.lookups.broken = True
    await broken.run(flow)
    assert broken.sink.path()[0] == ("who", "error")


BRANCH = """
nodes:
  start:
    type: set
    values: {tries: "{{ tries | default(0) | int + 1 }}"}
    next: decide
  decide:
    type: branch
    when:
      - if: vip == "1" and tries >= 2
        goto: vip
      - if: not (caller_id in ["15550001001", "15550001002"])
        goto: other
    else: regular
  vip: {type: hangup, text: vip}
  other: {type: hangup, text: other}
  regular: {type: hangup, text: regular}
"""


async def test_branch_conditions_in_order(harness: Harness, make_flow: FlowMaker) -> None:
    from ivr_engine.flow.interpreter import run_flow
    from ivr_engine.flow.simulator import ScriptedChannel

    flow = make_flow(BRANCH)
    cases = [
        ({"vip": "1", "tries": "1"}, "15550001001", "vip"),
        ({"vip": "1", "tries": "0"}, "15550001001", "regular"),
        ({}, "15550009999", "other"),
    ]
    for variables, caller, expected in cases:
        h = Harness()
        channel = ScriptedChannel((), caller_id=caller)
        await run_flow(flow, channel, h.services(), call_id="c", variables=variables)
        assert h.sink.path()[-1][0] == expected, (variables, caller)


async def test_say_speaks_typed_values(harness: Harness, make_flow: FlowMaker) -> None:
    flow = make_flow(
        """
        nodes:
          money: {type: say, kind: money, value: "1234.5", prompt: is, after: dollars, next: date}
          date: {type: say, kind: date, value: "2026-12-01", next: digits}
          digits: {type: say, kind: digits, value: "0042", next: number}
          number: {type: say, kind: number, value: "{{ 4000 + 520 }}", next: bye}
          bye: {type: hangup}
        """
    )
    harness.catalogue.texts.update({"is": "Your balance is", "dollars": "dollars"})
    sim = await harness.run(flow)
    said = harness.said(sim)
    assert said == [
        "Your balance is",
        f"[{SayKind.MONEY.value}] 1234.50",
        "dollars",
        "[date] 2026-12-01",
        "[digits] 0042",
        "[number] 4520",
    ]


async def test_say_of_a_bad_value_ends_with_an_error_not_a_traceback(
    harness: Harness, make_flow: FlowMaker
) -> None:
    flow = make_flow(
        "nodes:\n  d: {type: say, kind: date, value: 'soon', next: bye}\n  bye: {type: hangup}\n"
    )
    sim = await harness.run(flow)
    assert sim.result.reason is EndReason.ERROR
    assert "cannot say 'soon' as date" in sim.result.error
    assert harness.sink.path() == [("d", "error")]


async def test_template_with_undefined_variable_is_a_runtime_error(
    harness: Harness, make_flow: FlowMaker
) -> None:
    flow = make_flow("nodes:\n  p: {type: play, text: 'Hi {{ nobody }}', next: bye}\n  bye: {type: hangup}\n")
    sim = await harness.run(flow)
    assert sim.result.reason is EndReason.ERROR
    assert "nobody" in sim.result.error


async def test_sandbox_refuses_unsafe_templates(harness: Harness, make_flow: FlowMaker) -> None:
    flow = make_flow(
        "nodes:\n  p: {type: play, text: \"{{ ''.__class__.__mro__ }}\", next: bye}\n  bye: {type: hangup}\n"
    )
    sim = await harness.run(flow)
    assert sim.result.reason is EndReason.ERROR
    assert "__class__" not in " ".join(harness.said(sim))


async def test_goto_and_sub_flow_call_return(harness: Harness, make_flow: FlowMaker) -> None:
    sub = make_flow(
        """
        flow: sub
        nodes:
          hello: {type: play, text: "in {{ parent_flow }}", next: back}
          back: {type: return}
        """,
        name="sub",
    )
    main = make_flow(
        """
        flow: main
        nodes:
          jump: {type: goto, goto: call_sub}
          call_sub: {type: call, flow: sub, next: after}
          after: {type: hangup, text: "back in main"}
        """,
        name="main",
    )
    harness.flows.extend([sub, main])
    sim = await harness.run(main)
    assert harness.said(sim) == ["in main", "back in main"]
    path = [(e.seq, e.flow, e.node, e.outcome) for e in sorted(harness.sink.events, key=lambda e: e.seq)]
    assert path == [
        (1, "main", "jump", "next"),
        (2, "main", "call_sub", "returned"),
        (3, "sub", "hello", "next"),
        (4, "sub", "back", "return"),
        (5, "main", "after", "completed"),
    ]


async def test_top_level_return_ends_the_call(harness: Harness, make_flow: FlowMaker) -> None:
    sim = await harness.run(make_flow("nodes:\n  r: {type: return}\n"))
    assert sim.result.reason is EndReason.COMPLETED


TRANSFER = """
nodes:
  agent:
    type: transfer
    queue: billing
    skills: {billing: 5}
    priority: "{{ 10 if vip | default('0') == '1' else 0 }}"
    completed: survey
    callback: callback
    next: busy
  survey: {type: hangup, text: survey}
  callback: {type: hangup, text: callback}
  busy: {type: hangup, text: busy}
"""


async def test_transfer_outcomes_and_vip_priority(make_flow: FlowMaker) -> None:
    from ivr_engine.flow.interpreter import run_flow
    from ivr_engine.flow.simulator import ScriptedChannel

    flow = make_flow(TRANSFER)
    expected = {
        TransferOutcome.COMPLETED: "survey",
        TransferOutcome.CALLBACK: "callback",
        TransferOutcome.NO_AGENTS: "busy",
        TransferOutcome.OVERFLOW: "busy",
        TransferOutcome.FAILED: "busy",
    }
    for outcome, target in expected.items():
        h = Harness()
        h.transferrer.outcome = outcome
        await run_flow(flow, ScriptedChannel(()), h.services(), call_id="c", variables={"vip": "1"})
        assert h.sink.path()[0] == ("agent", outcome.value)
        assert h.sink.path()[1][0] == target
        request = h.transferrer.requests[0]
        assert (request.queue, dict(request.skills), request.priority) == ("billing", {"billing": 5}, 10)


async def test_default_transferrer_reports_no_agents(make_flow: FlowMaker) -> None:
    from dataclasses import replace

    from ivr_engine.flow.interpreter import run_flow
    from ivr_engine.flow.services import BusyTransferrer
    from ivr_engine.flow.simulator import ScriptedChannel

    h = Harness()
    services = replace(h.services(), transferrer=BusyTransferrer())
    await run_flow(make_flow(TRANSFER), ScriptedChannel(()), services, call_id="c")
    assert h.sink.path() == [("agent", "no_agents"), ("busy", "completed")]


RECORD = """
nodes:
  rec: {type: record, max_seconds: 30, mailbox: "sales", next: saved, empty: nothing}
  saved: {type: hangup, text: saved}
  nothing: {type: hangup, text: nothing}
"""


async def test_record_stores_a_voicemail(harness: Harness, make_flow: FlowMaker) -> None:
    sim = await harness.run(make_flow(RECORD), "#")
    call_id, caller, mailbox, recording = harness.voicemails.saved[0]
    assert (call_id, caller, mailbox) == ("call-1", "15550001001", "sales")
    assert recording.duration > 1
    assert recording.terminated_by is not None
    assert harness.said(sim)[-1] == "saved"


async def test_empty_recording_is_not_stored(make_flow: FlowMaker) -> None:
    from ivr_engine.flow.interpreter import run_flow
    from ivr_engine.flow.simulator import ScriptedChannel

    h = Harness()
    channel = ScriptedChannel((), record_seconds=0.2)
    await run_flow(make_flow(RECORD), channel, h.services(), call_id="c")
    assert h.voicemails.saved == []
    assert h.sink.path()[0] == ("rec", "empty")


async def test_a_silent_caller_is_recorded_only_until_the_silence_limit_and_discarded(
    make_flow: FlowMaker,
) -> None:
    from ivr_engine.flow.interpreter import run_flow
    from ivr_engine.flow.simulator import EntryKind, ScriptedChannel

    h = Harness()
    channel = ScriptedChannel((), record_seconds=0.0)
    await run_flow(make_flow(RECORD), channel, h.services(), call_id="c")
    assert h.voicemails.saved == []
    (rec, *_) = h.sink.events
    assert (rec.node, rec.outcome, rec.input) == ("rec", "empty", "silent 5.0s")  # the default limit
    recorded = [e.text for e in channel.transcript if e.kind is EntryKind.RECORDED]
    assert recorded == ["silence for 5s", "[recording discarded]"]


async def test_speech_is_kept_when_the_recording_listens_for_silence(make_flow: FlowMaker) -> None:
    from ivr_engine.flow.interpreter import run_flow
    from ivr_engine.flow.simulator import ScriptedChannel

    h = Harness()
    flow = make_flow(RECORD.replace("max_seconds: 30,", "max_seconds: 30, max_silence_seconds: 3,"))
    await run_flow(flow, ScriptedChannel((), record_seconds=4.0), h.services(), call_id="c")
    ((_, _, _, recording),) = h.voicemails.saved
    assert (recording.duration, recording.talking) == (4.0, 4.0)
    assert h.sink.path()[0] == ("rec", "recorded")


SURVEY = """
nodes:
  ask:
    type: survey
    survey: post_call
    retries: 1
    questions:
      - {id: agent, prompt: q1}
      - {id: resolved, prompt: q2}
    invalid: again
    no_input: not_heard
    next: bye
  bye: {type: hangup}
"""


async def test_survey_stores_answers_and_retries_invalid(harness: Harness, make_flow: FlowMaker) -> None:
    from ivr_engine.flow.interpreter import run_flow
    from ivr_engine.flow.simulator import ScriptedChannel, parse_script

    channel = ScriptedChannel(parse_script("84"), clock=harness.clock)
    await run_flow(
        make_flow(SURVEY), channel, harness.services(), call_id="c", variables={"agent_id": "1001"}
    )
    assert harness.surveys.answers == [("c", "post_call", "agent", 4, "1001")]
    assert harness.sink.path()[0] == ("ask", "hangup")  # ran out of digits on question two


async def test_survey_tells_no_input_from_an_invalid_key(harness: Harness, make_flow: FlowMaker) -> None:
    sim = await harness.run(make_flow(SURVEY), "T4" + "95")
    assert harness.said(sim) == [
        "[prompt q1]", "[prompt not_heard]", "[prompt q1]",  # nothing pressed: the no-input message
        "[prompt q2]", "[prompt again]", "[prompt q2]",  # 9: the invalid message
    ]
    assert [a[2:4] for a in harness.surveys.answers] == [("agent", 4), ("resolved", 5)]


async def test_survey_skips_a_question_after_retries(harness: Harness, make_flow: FlowMaker) -> None:
    await harness.run(make_flow(SURVEY), "99" + "5")
    assert harness.surveys.answers == [("call-1", "post_call", "resolved", 5, None)]
    assert harness.sink.path()[0] == ("ask", "incomplete")


HOURS = """
nodes:
  hours:
    type: hours
    timezone: Asia/Shanghai
    weekly: {mon: "09:00-18:00", tue: ["09:00-12:00", "13:00-18:00"], sun: closed}
    holidays: [2026-10-01]
    open: open
    closed: closed
  open: {type: hangup, text: open}
  closed: {type: hangup, text: closed}
"""


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2026, 6, 1, 1, 0, tzinfo=UTC), "open"),  # Monday 09:00 in Shanghai
        (datetime(2026, 6, 1, 0, 59, tzinfo=UTC), "closed"),  # Monday 08:59 in Shanghai
        (datetime(2026, 6, 2, 4, 30, tzinfo=UTC), "closed"),  # Tuesday 12:30: lunch break
        (datetime(2026, 6, 2, 5, 0, tzinfo=UTC), "open"),  # Tuesday 13:00
        (datetime(2026, 6, 7, 3, 0, tzinfo=UTC), "closed"),  # Sunday
        (datetime(2026, 6, 3, 3, 0, tzinfo=UTC), "closed"),  # Wednesday: not listed
        (datetime(2026, 9, 28, 3, 0, tzinfo=UTC), "open"),  # Monday 11:00
        (datetime(2026, 10, 1, 3, 0, tzinfo=UTC), "closed"),  # holiday (a Thursday anyway) ...
        (datetime(2026, 9, 30, 17, 0, tzinfo=UTC), "closed"),  # ... Wed 17:00 UTC = Thu 01:00 holiday
    ],
)
async def test_hours_with_time_zone_and_holiday(make_flow: FlowMaker, utc: datetime, expected: str) -> None:
    h = Harness(clock=SimClock(utc))
    await h.run(make_flow(HOURS))
    assert h.sink.path()[0][1] == expected


async def test_hours_holiday_overrides_open_day(make_flow: FlowMaker) -> None:
    flow = make_flow(HOURS.replace("[2026-10-01]", "[2026-06-01]"))
    h = Harness(clock=SimClock(datetime(2026, 6, 1, 3, 0, tzinfo=UTC)))  # Monday 11:00, a holiday
    await h.run(flow)
    assert h.sink.path()[0] == ("hours", "closed")
    assert h.sink.events[0].input == "2026-06-01 11:00 Asia/Shanghai"


async def test_barge_in_key_reaches_the_next_menu(harness: Harness, make_flow: FlowMaker) -> None:
    flow = make_flow(
        """
        nodes:
          intro: {type: play, text: "long welcome", barge_in: true, next: menu}
          menu: {type: menu, text: choose, choices: {"2": two, "0": two}, on_fail: two}
          two: {type: hangup}
        """
    )
    await harness.run(flow, "2")
    assert harness.sink.path() == [("intro", "next"), ("menu", "two"), ("two", "completed")]
    assert harness.sink.events[0].input == "2"


async def test_node_events_carry_sequence_and_times(harness: Harness, make_flow: FlowMaker) -> None:
    await harness.run(make_flow(MENU), "1")
    first, second = sorted(harness.sink.events, key=lambda e: e.seq)
    assert (first.seq, second.seq) == (1, 2)
    assert first.entered < first.left <= second.entered
    assert (first.call_id, first.flow, first.node_type) == ("call-1", "t", "menu")


async def test_a_loop_without_input_is_stopped(harness: Harness, make_flow: FlowMaker) -> None:
    flow = make_flow("nodes:\n  a: {type: goto, goto: b}\n  b: {type: goto, goto: a}\n")
    sim = await harness.run(flow)
    assert sim.result.reason is EndReason.ERROR
    assert "loop" in sim.result.error


async def test_a_transfer_to_a_recorded_queue_plays_the_recording_notice_first(make_flow: FlowMaker) -> None:
    """Queues with ``record: true`` (``FlowServices.recorded_queues``): the caller hears the notice, in
    their language, before the node's own prompt and before being queued; other queues: no notice."""
    from dataclasses import replace

    from ivr_engine.flow.interpreter import run_flow
    from ivr_engine.flow.simulator import ScriptedChannel

    flow = make_flow(TRANSFER.replace("priority:", "prompt: transfer_agent\n    priority:"))
    heard: dict[str, list[str]] = {}
    for queues in (frozenset({"billing"}), frozenset({"general"})):
        h = Harness()
        h.catalogue.texts.update(recording_notice="This call may be recorded.", transfer_agent="Please hold.")
        channel = ScriptedChannel(())
        await run_flow(flow, channel, replace(h.services(), recorded_queues=queues), call_id="c")
        assert h.transferrer.requests, "the caller was queued"
        heard[min(queues)] = [entry.text for entry in channel.transcript]
    assert heard["billing"][:2] == ["This call may be recorded.", "Please hold."]
    assert "This call may be recorded." not in heard["general"]
