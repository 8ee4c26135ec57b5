"""The agent state machine's table, its refusals, and the events it stamps."""

from __future__ import annotations

import pytest

from acd import TRANSITIONS, Acd, AgentState, InvalidTransition, NoOffer, StateChange
from acd.agent_state import transition
from acd.events import OfferEnded, OfferResult

from .acd_helpers import agent, offers, queue

S = AgentState


@pytest.mark.parametrize("start", list(S))
@pytest.mark.parametrize("to", list(S))
def test_transition_follows_the_table(start: AgentState, to: AgentState) -> None:
    a = agent("7", general=1)
    a = a.__class__(**{**a.__dict__, "state": start})
    if to in TRANSITIONS[start]:
        moved, change = transition(a, to, "why", 42.0)
        assert (moved.state, moved.state_since) == (to, 42.0)
        assert change == StateChange("7", start, to, "why", 42.0)
    else:
        with pytest.raises(InvalidTransition, match=f"agent 7: cannot go from {start} to {to}"):
            transition(a, to, "why", 42.0)


def test_on_call_only_leads_to_wrap_up() -> None:
    assert TRANSITIONS[S.ON_CALL] == {S.WRAP_UP}


def test_refusals_name_the_agent_and_states() -> None:
    acd = Acd([queue("q", general=1)], agents=[agent("1001", general=5)])
    expected = "agent 1001: cannot go from logged_out to paused: log in first"
    with pytest.raises(InvalidTransition, match=expected):
        acd.pause("1001", "lunch", 0)
    acd.login("1001", 0)
    acd.enqueue("c", "1", "q", 1)
    acd.answer("1001", 2)
    with pytest.raises(InvalidTransition, match="from on_call to logged_out: end the call first"):
        acd.logout("1001", 3)
    with pytest.raises(NoOffer, match="agent 1001 has no call ringing"):
        acd.answer("1001", 3)


def test_no_answer_pauses_and_the_next_agent_is_tried() -> None:
    acd = Acd([queue("q", general=1)], agents=[agent("a", general=5), agent("b", general=5)])
    acd.login("a", 0)
    acd.login("b", 1)
    assert offers(acd.enqueue("c", "1", "q", 2)) == [("c", "a")]
    assert offers(acd.tick(16.9)) == []
    events = acd.tick(17)
    assert [e.result for e in events if isinstance(e, OfferEnded)] == [OfferResult.TIMED_OUT]
    assert offers(events) == [("c", "b")]
    assert (acd.agent("a").state, acd.agent("a").pause_reason) == (S.PAUSED, "no answer")


def test_reject_tries_the_next_agent_at_once() -> None:
    acd = Acd([queue("q", general=1)], agents=[agent("a", general=5), agent("b", general=5)])
    acd.login("a", 0)
    acd.login("b", 1)
    acd.enqueue("c", "1", "q", 2)
    assert offers(acd.reject("a", 3, "unreachable")) == [("c", "b")]
    assert acd.agent("a").pause_reason == "unreachable"


def test_abandon_while_ringing_frees_the_agent() -> None:
    acd = Acd([queue("q", general=1)], agents=[agent("a", general=5)])
    acd.login("a", 0)
    acd.enqueue("c1", "1", "q", 1)
    acd.enqueue("c2", "2", "q", 2)
    events = acd.abandon("c1", 3)
    assert [e.result for e in events if isinstance(e, OfferEnded)] == [OfferResult.ABANDONED]
    assert offers(events) == [("c2", "a")]


def test_pause_while_ringing_withdraws_the_offer_and_requeues_in_place() -> None:
    acd = Acd([queue("q", general=1)], agents=[agent("a", general=5)])
    acd.login("a", 0)
    acd.enqueue("c1", "1", "q", 1)
    acd.enqueue("c2", "2", "q", 2)
    events = acd.pause("a", "break", 3)
    assert [e.result for e in events if isinstance(e, OfferEnded)] == [OfferResult.WITHDRAWN]
    assert [c.id for c in acd.store.waiting("q")] == ["c1", "c2"]
    assert acd.call("c1").offered_to is None
    assert offers(acd.ready("a", 4)) == [("c1", "a")]
    with pytest.raises(InvalidTransition, match="answer or reject the ringing call first"):
        acd.ready("a", 5)


def test_wrap_up_ends_after_the_queue_wrap_up_seconds() -> None:
    acd = Acd([queue("q", general=1)], agents=[agent("a", general=5)])
    acd.login("a", 0)
    acd.enqueue("c", "1", "q", 0)
    acd.answer("a", 1)
    acd.end_call("a", 10)
    acd.tick(14.9)
    assert acd.agent("a").state is S.WRAP_UP
    changes = [e for e in acd.tick(15) if isinstance(e, StateChange)]
    assert changes == [StateChange("a", S.WRAP_UP, S.READY, "wrap-up done", 15)]


def test_max_wait_overflows() -> None:
    acd = Acd([queue("q", general=1)], agents=[agent("a", general=5)])
    acd.enqueue("c", "1", "q", 0)
    assert acd.tick(119) == []
    (event,) = acd.tick(120)
    assert (event.call.id, event.waited) == ("c", 120)  # type: ignore[union-attr]
    assert acd.store.waiting("q") == []
