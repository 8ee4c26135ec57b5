"""Property-based: random sequences of agent and caller actions never break the ACD's invariants.

Invariants checked after every step: an agent rings for at most one call and a call rings at most one
agent (offers, agents and calls agree); no agent stays ringing past its offer's expiry once time has
been ticked; no ready agent is left idle while a waiting call it could take sits unoffered (checked by a
naive full rescan against the indexed routing); the store's indexes, its counts per pass reason and its
list of the nearest passed-over agents agree with a recount.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from acd import Acd, AcdError, AgentState, EscalationStep, Strategy
from acd.model import requirements_at
from acd.routing import eligible

from .acd_helpers import agent, check_store_views, queue

AGENT_IDS = ["a1", "a2", "a3", "a4"]
QUEUES = [
    queue("general", Strategy.LONGEST_IDLE, general=1),
    queue("billing", Strategy.BEST_SKILL, escalation=(EscalationStep(20, "billing", None),),
          billing=5, general=1),
    queue("orders", Strategy.ROUND_ROBIN, escalation=(EscalationStep(10, "orders", 2),), orders=6),
    queue("loyalty", Strategy.FEWEST_CALLS, loyalty=3),
]
SKILLS = {
    "a1": {"general": 5, "billing": 8},
    "a2": {"general": 5, "orders": 9, "loyalty": 6},
    "a3": {"general": 7},
    "a4": {"orders": 3, "billing": 4, "general": 1},
}

agent_ids = st.sampled_from(AGENT_IDS)


class AcdMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.acd = Acd(QUEUES, agents=[agent(i, **SKILLS[i]) for i in AGENT_IDS])
        self.now = 0.0
        self.calls = 0
        self.ticked = True

    def _try(self, action: object) -> None:
        """Run an action; a refusal must be an AcdError (never another exception) and change nothing."""
        before = (self.acd.store.agents(), self.acd.store.offers())
        try:
            action()  # type: ignore[operator]
        except AcdError:
            assert (self.acd.store.agents(), self.acd.store.offers()) == before

    @rule(seconds=st.sampled_from([0.0, 1.0, 3.0, 7.0, 16.0]))
    def wait(self, seconds: float) -> None:
        self.now += seconds
        self.ticked = self.ticked and seconds == 0

    @rule()
    def tick(self) -> None:
        self.acd.tick(self.now)
        self.ticked = True

    @rule(agent_id=agent_ids, paused=st.booleans())
    def login(self, agent_id: str, paused: bool) -> None:
        self._try(lambda: self.acd.login(agent_id, self.now, "start" if paused else ""))

    @rule(agent_id=agent_ids)
    def logout(self, agent_id: str) -> None:
        self._try(lambda: self.acd.logout(agent_id, self.now))

    @rule(agent_id=agent_ids, reason=st.sampled_from(["lunch", "training"]))
    def pause(self, agent_id: str, reason: str) -> None:
        self._try(lambda: self.acd.pause(agent_id, reason, self.now))

    @rule(agent_id=agent_ids)
    def ready(self, agent_id: str) -> None:
        self._try(lambda: self.acd.ready(agent_id, self.now))

    @rule(q=st.sampled_from([q.name for q in QUEUES]), priority=st.integers(0, 2), vip=st.booleans())
    def call_arrives(self, q: str, priority: int, vip: bool) -> None:
        self.calls += 1
        self.acd.enqueue(f"c{self.calls}", "caller", q, self.now, priority=priority, vip=vip)

    @rule(agent_id=agent_ids)
    def answer(self, agent_id: str) -> None:
        self._try(lambda: self.acd.answer(agent_id, self.now))

    @rule(agent_id=agent_ids)
    def reject(self, agent_id: str) -> None:
        self._try(lambda: self.acd.reject(agent_id, self.now))

    @rule(agent_id=agent_ids)
    def hang_up(self, agent_id: str) -> None:
        self._try(lambda: self.acd.end_call(agent_id, self.now))

    @precondition(lambda self: self.calls > 0)
    @rule(data=st.data())
    def abandon(self, data: st.DataObject) -> None:
        call_id = f"c{data.draw(st.integers(1, self.calls))}"
        self._try(lambda: self.acd.abandon(call_id, self.now))

    @invariant()
    def offers_agents_and_calls_agree(self) -> None:
        store = self.acd.store
        offers = store.offers()
        assert len({o.call_id for o in offers}) == len(offers), "a call rings two agents"
        for a in store.agents():
            offer = store.offer(a.id)
            if a.state is AgentState.RINGING:
                assert offer is not None, f"{a.id} ringing without an offer"
                call = store.call(offer.call_id)
                assert call is not None
                assert call.offered_to == a.id
                assert a.current_call == offer.call_id
            else:
                assert offer is None, f"{a.id} has an offer while {a.state}"
        for q in QUEUES:
            for call in store.waiting(q.name):
                if call.offered_to is not None:
                    offer = store.offer(call.offered_to)
                    assert offer is not None
                    assert offer.call_id == call.id

    @invariant()
    def nobody_rings_past_the_timeout(self) -> None:
        if self.ticked:
            for offer in self.acd.store.offers():
                assert offer.expires_at > self.now, f"{offer.agent_id} stuck ringing"

    @invariant()
    def no_ready_agent_idles_next_to_a_call_it_could_take(self) -> None:
        if not self.ticked:
            return  # escalation may have made new matches that only the next tick routes
        store = self.acd.store
        for q in QUEUES:
            for call in store.waiting(q.name):
                if call.offered_to is not None:
                    continue
                needed = requirements_at(call.skills, q.escalation, self.now - call.enqueued_at)
                idle = [a.id for a in store.agents() if eligible(a, needed)]
                assert not idle, f"{idle} ready while {call.id} waits"

    @invariant()
    def indexes_match_a_recount(self) -> None:
        store = self.acd.store
        everyone = store.agents()
        for state in AgentState:
            expected = [a.id for a in everyone if a.state is state]
            assert [a.id for a in store.agents_in_state(state)] == expected
        for skill in ("general", "billing", "orders", "loyalty"):
            assert [a.id for a in store.ready_agents(skill)] == [
                a.id for a in everyone if a.state is AgentState.READY and skill in a.skills
            ]
        for q in QUEUES:
            waiting = store.waiting(q.name)
            assert [store.position(c.id) for c in waiting] == list(range(1, len(waiting) + 1))
            for waited in (0, 10, 20):
                check_store_views(store, requirements_at(q.skills, q.escalation, waited))


TestAcdStateMachine = AcdMachine.TestCase
TestAcdStateMachine.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)
