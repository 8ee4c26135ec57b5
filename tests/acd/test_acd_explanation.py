"""Bounded explanations: counts per reason for the whole skill pool, names for the nearest few.

The indexed path (store counts and ``nearest_passed``) must give exactly the decision a full scan of
every agent gives (``routing.choose_agent``), whatever the centre looks like.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from acd import Acd, Agent, AgentState, PassReason, Queue, Strategy
from acd.events import OfferMade
from acd.routing import PASSED_OVER_NAMED, RoutingInput, choose_agent

from .acd_helpers import agent, queue

S = AgentState


def _put(acd: Acd, agent_id: str, state: AgentState, since: float, **skills: int) -> None:
    acd.store.save_agent(replace(agent(agent_id, **skills), state=state, state_since=since,
                                 pause_reason="lunch" if state is S.PAUSED else ""))


def _centre() -> Acd:
    acd = Acd([queue("q", general=3)])
    for i in range(3):
        _put(acd, f"r{i}", S.READY, 10 - i, general=5)      # eligible; r2 ready longest
    for i in range(3):
        _put(acd, f"l{i}", S.READY, 1, general=1)           # ready, level too low
    for i in range(5):
        _put(acd, f"p{i}", S.PAUSED, 2, general=5)
    for i in range(6):
        _put(acd, f"b{i}", S.ON_CALL, 6 - i, general=5)     # b5 on call longest
    for i in range(4):
        _put(acd, f"w{i}", S.WRAP_UP, 3, general=5)
    for i in range(4):
        _put(acd, f"o{i}", S.LOGGED_OUT, 0, general=5)
    for i in range(3):
        _put(acd, f"x{i}", S.READY, 0, billing=9)           # holds no needed skill
    return acd


def test_counts_cover_the_whole_pool_and_names_stop_at_the_bound() -> None:
    acd = _centre()
    events = acd.enqueue("c", "555", "q", 20)
    decision = next(e for e in events if isinstance(e, OfferMade)).offer.decision
    assert decision.chosen == "r2"
    assert decision.passed_over_counts == {
        PassReason.RANKED_LOWER: 2,
        PassReason.LEVEL_TOO_LOW: 3,
        PassReason.WRAP_UP: 4,
        PassReason.BUSY: 6,
        PassReason.PAUSED: 5,
        PassReason.LOGGED_OUT: 4,
    }
    assert decision.passed_over_total == 24
    assert decision.without_any_skill == 3
    named = {p.agent_id: (p.reason, p.detail) for p in decision.passed_over}
    # Every ready agent that lost on the strategy, then the 10 nearest to available: the ready ones
    # lacking the level, every wrap-up, then the three longest on a call.
    assert named == {
        "r0": (PassReason.RANKED_LOWER, "longest idle: ready for 10s"),
        "r1": (PassReason.RANKED_LOWER, "longest idle: ready for 11s"),
        "l0": (PassReason.LEVEL_TOO_LOW, "general 1 < 3"),
        "l1": (PassReason.LEVEL_TOO_LOW, "general 1 < 3"),
        "l2": (PassReason.LEVEL_TOO_LOW, "general 1 < 3"),
        "w0": (PassReason.WRAP_UP, ""),
        "w1": (PassReason.WRAP_UP, ""),
        "w2": (PassReason.WRAP_UP, ""),
        "w3": (PassReason.WRAP_UP, ""),
        "b3": (PassReason.BUSY, ""),
        "b4": (PassReason.BUSY, ""),
        "b5": (PassReason.BUSY, ""),
    }
    assert len(named) == 2 + PASSED_OVER_NAMED
    assert [p.agent_id for p in decision.passed_over] == sorted(named)
    assert decision.reason_for("p0") is None  # counted under "paused", not named


def test_queue_status_and_expected_wait_come_from_the_counts() -> None:
    acd = _centre()
    status = acd.queue_status("q", 20)
    assert status.agents_by_state == {S.READY: 3, S.PAUSED: 5, S.ON_CALL: 6, S.WRAP_UP: 4,
                                      S.LOGGED_OUT: 4, S.RINGING: 0}
    acd.store.save_agent(replace(acd.agent("r0"), state=S.PAUSED, pause_reason="x"))
    acd.store.save_agent(replace(acd.agent("r1"), state=S.PAUSED, pause_reason="x"))
    acd.store.save_agent(replace(acd.agent("r2"), state=S.PAUSED, pause_reason="x"))
    for n in range(3):
        acd.enqueue(f"k{n}", "1", "q", 20)
    # Nobody eligible is ready; 6 on call + 4 in wrap-up are staffed: position n waits n * 180 / 10.
    assert [acd.call(f"k{n}").predicted_wait for n in range(3)] == [18, 36, 54]


_SKILLS = ["general", "billing", "orders"]
_agents = st.lists(
    st.tuples(
        st.dictionaries(st.sampled_from(_SKILLS), st.integers(1, 10), max_size=3),
        st.sampled_from(list(AgentState)),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=40,
)
_needs = st.dictionaries(st.sampled_from(_SKILLS), st.integers(1, 10), max_size=2)


@settings(max_examples=200, deadline=None)
@given(centre=_agents, needs=_needs, strategy=st.sampled_from(list(Strategy)))
def test_indexed_decision_equals_a_full_scan(
    centre: list[tuple[dict[str, int], AgentState, int]], needs: dict[str, int], strategy: Strategy
) -> None:
    acd = Acd([Queue("q", needs, strategy=strategy)])
    for i, (skills, state, since) in enumerate(centre):
        acd.store.save_agent(Agent(f"a{i:02d}", "A", "PJSIP/a", skills, state=state,
                                   state_since=float(since)))
    everyone = acd.store.agents()
    expected = choose_agent(RoutingInput(needs, everyone, strategy, 9.0))
    events = acd.enqueue("c", "1", "q", 9.0)
    made = [e.offer.decision for e in events if isinstance(e, OfferMade)]
    assert made == ([expected] if expected is not None else [])
    if expected is not None:
        others = [p for p in expected.passed_over if p.reason is not PassReason.RANKED_LOWER]
        assert len(others) == min(PASSED_OVER_NAMED, expected.passed_over_total
                                  - expected.passed_over_counts.get(PassReason.RANKED_LOWER, 0))
