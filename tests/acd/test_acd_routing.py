"""Routing: skills, levels, priority, each strategy, escalation, ties and explanations."""

from __future__ import annotations

import pytest

from acd import Acd, EscalationStep, PassReason, Strategy
from acd.events import CallAnswered, OfferMade

from .acd_helpers import agent, offers, queue, ready_all


def test_call_goes_only_to_an_agent_with_the_skill_at_the_level() -> None:
    acd = Acd([queue("billing", billing=5)], agents=[agent("a", billing=4), agent("b", general=9),
                                                     agent("c", billing=5)])
    ready_all(acd, ["a", "b", "c"])
    events = acd.enqueue("call1", "555", "billing", 10)
    assert offers(events) == [("call1", "c")]
    decision = next(e for e in events if isinstance(e, OfferMade)).offer.decision
    assert decision.reason_for("a") is PassReason.LEVEL_TOO_LOW
    assert decision.reason_for("b") is None  # holds none of the needed skills: only counted
    assert decision.without_any_skill == 1


def test_no_eligible_agent_leaves_the_call_waiting_until_one_is_ready() -> None:
    acd = Acd([queue("orders", orders=5)], agents=[agent("a", orders=9)])
    assert offers(acd.enqueue("c1", "555", "orders", 0)) == []
    assert acd.position("c1") == 1
    assert offers(acd.login("a", 3)) == [("c1", "a")]


def test_explanation_names_every_state_and_missing_skill() -> None:
    agents = [agent(i, general=5) for i in ("idle", "paused", "out", "ringing", "busy", "wrap")]
    agents.append(agent("partial", general=5))
    acd = Acd([queue("q", general=1), queue("two", general=1, billing=1)], agents=agents)
    ready_all(acd, ["busy", "ringing", "wrap", "paused", "idle"])
    acd.pause("paused", "lunch", 5)
    acd.enqueue("x", "1", "q", 6)            # -> busy (longest idle)
    acd.answer("busy", 6)
    acd.enqueue("y", "2", "q", 7)            # -> ringing
    acd.enqueue("z", "3", "q", 8)            # -> wrap
    acd.answer("wrap", 8)
    acd.end_call("wrap", 9)
    acd.login("partial", 9.5)                # ready, but holds general only
    acd.pause("partial", "meeting", 9.6)
    acd.ready("partial", 9.7)
    events = acd.enqueue("w", "4", "two", 10)
    assert offers(events) == []              # nobody has billing
    acd.store.save_agent(agent("bill", general=1, billing=2))
    events = acd.login("bill", 11)
    decision = next(e for e in events if isinstance(e, OfferMade)).offer.decision
    assert decision.chosen == "bill"
    got = {p.agent_id: (p.reason, p.detail) for p in decision.passed_over}
    assert got == {
        "busy": (PassReason.MISSING_SKILL, "billing"),
        "idle": (PassReason.MISSING_SKILL, "billing"),
        "out": (PassReason.MISSING_SKILL, "billing"),
        "partial": (PassReason.MISSING_SKILL, "billing"),
        "paused": (PassReason.MISSING_SKILL, "billing"),
        "ringing": (PassReason.MISSING_SKILL, "billing"),
        "wrap": (PassReason.MISSING_SKILL, "billing"),
    }
    # Same centre, a call needing only general: states are the reasons now.
    events = acd.enqueue("v", "5", "q", 12)
    decision = next(e for e in events if isinstance(e, OfferMade)).offer.decision
    got = {p.agent_id: (p.reason, p.detail) for p in decision.passed_over}
    assert decision.chosen == "idle"
    assert got["paused"] == (PassReason.PAUSED, "lunch")
    assert got["out"][0] is PassReason.LOGGED_OUT
    assert got["ringing"][0] is PassReason.RINGING
    assert got["busy"][0] is PassReason.BUSY
    assert got["wrap"][0] is PassReason.WRAP_UP
    assert got["partial"][0] is PassReason.RANKED_LOWER
    assert got["bill"][0] is PassReason.RINGING
    assert "longest idle" in decision.why


def test_vip_then_priority_then_fifo() -> None:
    acd = Acd([queue("q", general=1)], agents=[agent("a", general=5)])
    acd.enqueue("plain1", "1", "q", 1)
    acd.enqueue("high", "2", "q", 2, priority=5)
    acd.enqueue("plain2", "3", "q", 3)
    acd.enqueue("vip", "4", "q", 4, vip=True)
    assert [c.id for c in acd.store.waiting("q")] == ["vip", "high", "plain1", "plain2"]
    assert acd.position("plain1") == 3
    served = []
    now = 10.0
    acd.login("a", now)
    for _ in range(4):
        offer = acd.store.offer("a")
        assert offer is not None
        served.append(offer.call_id)
        acd.answer("a", now)
        acd.end_call("a", now + 1)
        now += 10
        acd.tick(now)
    assert served == ["vip", "high", "plain1", "plain2"]


def test_agent_serves_the_oldest_call_across_queues() -> None:
    acd = Acd([queue("billing", billing=1), queue("orders", orders=1)],
              agents=[agent("a", billing=5, orders=5)])
    acd.enqueue("late", "1", "billing", 5)
    acd.enqueue("early", "2", "orders", 2)
    assert offers(acd.login("a", 6)) == [("early", "a")]


@pytest.mark.parametrize(("strategy", "expected"), [
    (Strategy.LONGEST_IDLE, "a"),     # ready first
    (Strategy.FEWEST_CALLS, "c"),     # a and b took calls before
    (Strategy.BEST_SKILL, "b"),       # level 9
    (Strategy.ROUND_ROBIN, "c"),      # b was offered last, c is next in id order
])
def test_each_strategy_picks_its_agent(strategy: Strategy, expected: str) -> None:
    acd = Acd([queue("q", strategy, general=1)],
              agents=[agent("a", general=3), agent("b", general=9), agent("c", general=5)])
    # Give a and b one call each; end with a ready first, then b, then c.
    acd.login("a", 0)
    acd.enqueue("w1", "1", "q", 0)
    acd.answer("a", 0)
    acd.login("b", 0)
    acd.enqueue("w2", "2", "q", 0)
    acd.answer("b", 0)
    acd.end_call("a", 1)
    acd.end_call("b", 1)
    acd.pause("a", "x", 2)
    acd.pause("b", "x", 2)
    acd.ready("a", 10)
    acd.ready("b", 11)
    acd.login("c", 12)
    events = acd.enqueue("call", "9", "q", 20)
    assert offers(events) == [("call", expected)]
    decision = next(e for e in events if isinstance(e, OfferMade)).offer.decision
    assert decision.strategy is strategy
    assert {p.agent_id for p in decision.passed_over} == {"a", "b", "c"} - {expected}


def test_round_robin_wraps_around() -> None:
    acd = Acd([queue("q", Strategy.ROUND_ROBIN, general=1)],
              agents=[agent(i, general=1) for i in ("a", "b", "c")])
    ready_all(acd, ["c", "b", "a"])
    order = []
    for n in range(4):
        (call, chosen), = offers(acd.enqueue(f"k{n}", "1", "q", 10 + n))
        order.append(chosen)
        acd.abandon(call, 10 + n)  # the agent is ready again at once
    assert order == ["a", "b", "c", "a"]


def test_ties_break_on_agent_id_whatever_the_order_of_login() -> None:
    for ids in (["x", "m", "b"], ["b", "x", "m"], ["m", "b", "x"]):
        acd = Acd([queue("q", general=1)], agents=[agent(i, general=5) for i in ids])
        for agent_id in ids:
            acd.login(agent_id, 0)  # same instant: longest idle ties
        assert offers(acd.enqueue("c", "1", "q", 1)) == [("c", "b")]


def test_same_state_and_clock_give_the_same_decision() -> None:
    def run() -> list[object]:
        acd = Acd([queue("q", Strategy.BEST_SKILL, general=1)],
                  agents=[agent(str(i), general=1 + i % 4) for i in range(12)])
        for i in range(12):
            acd.login(str(i), i % 3)
        return [e.offer.decision for e in acd.enqueue("c", "1", "q", 5) if isinstance(e, OfferMade)]

    first = run()
    assert first
    assert first == run()


def test_escalation_lowers_the_level_then_drops_the_skill() -> None:
    steps = (EscalationStep(30, "orders", 3), EscalationStep(60, "orders", None))
    acd = Acd([queue("orders", escalation=steps, orders=8, general=1)],
              agents=[agent("low", orders=3, general=1), agent("none", general=1)])
    acd.login("none", 0)
    acd.login("low", 0)
    assert offers(acd.enqueue("c", "1", "orders", 0)) == []
    assert offers(acd.tick(29)) == []
    events = acd.tick(30)
    assert offers(events) == [("c", "low")]
    offer = next(e for e in events if isinstance(e, OfferMade)).offer
    assert offer.decision.required == {"orders": 3, "general": 1}
    assert offer.decision.reason_for("none") is PassReason.MISSING_SKILL
    # "low" does not answer: paused "no answer"; after 60 s anyone with general may take it.
    events = acd.tick(60)
    assert offers(events) == [("c", "none")]


def test_a_ready_agent_sees_escalated_calls_without_waiting_for_a_tick() -> None:
    steps = (EscalationStep(10, "billing", None),)
    acd = Acd([queue("billing", escalation=steps, billing=5, general=1)], agents=[agent("g", general=2)])
    acd.enqueue("c", "1", "billing", 0)
    assert offers(acd.login("g", 9)) == []
    acd.logout("g", 9.5)
    assert offers(acd.login("g", 11)) == [("c", "g")]


def test_answer_records_predicted_and_actual_wait() -> None:
    acd = Acd([queue("q", general=1)], agents=[agent("a", general=5)])
    acd.login("a", 0)
    acd.enqueue("first", "1", "q", 0)
    acd.answer("a", 1)
    acd.enqueue("second", "2", "q", 2)
    second = acd.call("second")
    assert second.predicted_wait == 180.0  # 1 staffed agent, nobody ready, default handle time
    acd.end_call("a", 101)                 # handle time 100 s
    acd.tick(106)
    answered = [e for e in acd.answer("a", 107) if isinstance(e, CallAnswered)]
    assert len(answered) == 1
    accuracy = answered[0].accuracy
    got = (accuracy.call_id, accuracy.agent_id, accuracy.predicted, accuracy.actual)
    assert got == ("second", "a", 180, 105)
    assert accuracy.error == -75


def test_expected_wait_uses_recent_handle_times_and_position() -> None:
    acd = Acd([queue("q", general=1)], agents=[agent("a", general=5), agent("b", general=5)])
    ready_all(acd, ["a", "b"])
    acd.enqueue("h1", "1", "q", 0)
    acd.enqueue("h2", "2", "q", 0)
    acd.answer("a", 0)
    acd.answer("b", 0)
    acd.end_call("a", 40)
    acd.end_call("b", 80)                   # AHT = 60 s
    acd.pause("a", "x", 81)
    acd.pause("b", "x", 81)
    acd.ready("a", 82)                      # a takes nothing: queue empty
    acd.enqueue("busy", "3", "q", 83)       # -> a
    acd.answer("a", 83)
    for n in range(3):
        acd.enqueue(f"w{n}", "4", "q", 84 + n)
    # b is paused: one staffed agent, positions 1..3 -> 60, 120, 180 s.
    assert [acd.expected_wait(f"w{n}", 90) for n in range(3)] == [60, 120, 180]
    acd.ready("b", 91)                      # b is offered w0; an offered call keeps its place
    assert acd.expected_wait("w1", 91) == 60
    acd.answer("b", 92)                     # w1 is now first, with two staffed agents
    assert acd.expected_wait("w1", 92) == 30

