"""The desk's rules without a browser: which state buttons each ACD state offers (checked against the real
ACD engine) and the readable call reference."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

import acd
from acd import AgentState
from ivr_engine.clock import CentreTime
from ivr_engine.screenpop import PastCall
from ivr_engine.web.agent_actions import ACTIONS_BY_STATE, DeskAction
from ivr_engine.web.call_ref import call_reference, pop_json
from tests.acd_control_fakes import alice_pop

S, A = AgentState, DeskAction
NOW = 1_796_287_882.0


def test_every_state_has_its_buttons_and_ready_is_not_offered_to_a_ready_or_busy_agent() -> None:
    assert ACTIONS_BY_STATE == {
        S.LOGGED_OUT: (A.LOGIN,),
        S.READY: (A.PAUSE, A.LOGOUT),
        S.PAUSED: (A.READY, A.PAUSE, A.LOGOUT),
        S.RINGING: (),
        S.ON_CALL: (),
        S.WRAP_UP: (A.READY, A.PAUSE, A.LOGOUT),
    }
    assert set(ACTIONS_BY_STATE) == set(AgentState)  # a new ACD state must get a row


def _engine_with_agent_in(state: AgentState) -> acd.Acd:
    engine = acd.Acd([acd.Queue("general", {"general": 1}, wrap_up_seconds=30)],
                     agents=[acd.Agent("1001", "Ann Lee", "PJSIP/1001", {"general": 5})])
    if state is not S.LOGGED_OUT:
        engine.login("1001", NOW)
    if state is S.PAUSED:
        engine.pause("1001", "break", NOW)
    if state in (S.RINGING, S.ON_CALL, S.WRAP_UP):
        engine.enqueue("c1", "15550001001", "general", NOW)
    if state in (S.ON_CALL, S.WRAP_UP):
        engine.answer("1001", NOW)
    if state is S.WRAP_UP:
        engine.end_call("1001", NOW)
    assert engine.agent("1001").state is state
    return engine


def _do(engine: acd.Acd, action: DeskAction) -> None:
    if action is A.LOGIN:
        engine.login("1001", NOW + 1)
    elif action is A.READY:
        engine.ready("1001", NOW + 1)
    elif action is A.PAUSE:
        engine.pause("1001", "lunch", NOW + 1)
    else:
        engine.logout("1001", NOW + 1)


@pytest.mark.parametrize("state", list(AgentState))
def test_the_engine_accepts_every_offered_button_and_refuses_the_others(state: AgentState) -> None:
    for action in DeskAction:
        engine = _engine_with_agent_in(state)
        if action in ACTIONS_BY_STATE[state]:
            _do(engine, action)  # never a button that only earns a refusal
        elif state is not S.RINGING:  # ringing: the desk withholds what the engine would take as a refusal
            with pytest.raises(acd.AcdError):
                _do(engine, action)


def test_the_call_reference_is_the_local_date_and_a_number_stable_for_the_call() -> None:
    york = CentreTime.named("America/New_York")
    started = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # still the 4th in New York
    ref = call_reference("1796287882.0", started, york)
    assert ref.startswith("2026-12-04 #")
    assert len(ref) == len("2026-12-04 #00000")
    assert ref[len("2026-12-04 #"):].isdigit()
    assert call_reference("1796287882.0", started, york) == ref
    assert call_reference("1796287882.0", started.replace(tzinfo=None), york) == ref  # stored as UTC
    others = {call_reference(f"1796287882.{n}", started, york)[-5:] for n in range(50)}
    assert len(others) > 45  # the number follows the id
    assert "1796287882" not in ref


def test_a_screen_pop_carries_the_references_of_the_call_and_of_the_last_calls() -> None:
    utc = CentreTime(UTC)
    pop = alice_pop("1001", "1796287882.0")
    started = datetime(2026, 11, 20, 8, 58, tzinfo=UTC)
    pop = replace(pop, last_calls=(PastCall("1796287882.0", started, "100", "answered", None),
                                   *pop.last_calls))
    data = pop_json(pop, utc)
    assert data["call_id"] == "1796287882.0"
    assert data["call_ref"] == call_reference("1796287882.0", started, utc)
    assert data["last_calls"][0]["call_ref"] == data["call_ref"]
    assert data["last_calls"][1]["call_ref"] == call_reference("call-0", pop.answered_at, utc)
