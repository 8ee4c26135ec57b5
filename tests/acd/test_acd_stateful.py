"""Property-based: random sequences of agent and caller actions never break the ACD's invariants.

Invariants checked after every step: an agent rings for at most one call and a call rings at most one
agent (offers, agents and calls agree); no agent stays ringing past its offer's expiry once time has
been ticked; no ready agent is left idle while a waiting call it could take sits unoffered (checked by a
naive full rescan against the indexed routing); the store's indexes, its counts per pass reason and its
list of the nearest passed-over agents agree with a recount.

The same machine runs over ``MemoryStore`` and over ``SqlStore`` on SQLite and on PostgreSQL (fewer
examples there: every step is dozens of queries). tests/acd/test_acd_sql_differential.py drives a
memory and an SQL engine side by side and checks they never differ.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from acd import Acd, AcdError, AcdStore, AgentState, MemoryStore
from acd.errors import StoreError
from acd.model import requirements_at
from acd.routing import eligible
from acd.sql_store import SqlStore

from .acd_helpers import check_store_views, wipe
from .small_centre import AGENT_IDS, QUEUES, start_agents

agent_ids = st.sampled_from(AGENT_IDS)


def in_one_transaction(check: Callable[[AcdMachine], None]) -> Callable[[AcdMachine], None]:
    """Run an invariant's reads in one store transaction (one round trip each, one snapshot)."""

    @functools.wraps(check)
    def run(self: AcdMachine) -> None:
        with self.acd.store.transaction():
            check(self)

    return run


class AcdMachine(RuleBasedStateMachine):
    def __init__(self, make_store: Callable[[], AcdStore] = MemoryStore) -> None:
        super().__init__()
        self.make_store = make_store

    @initialize()
    def start(self) -> None:
        self.acd = Acd(QUEUES, store=self.make_store(), agents=start_agents())
        self.now = 0.0
        self.calls = 0
        self.ticked = True

    def _try(self, action: object) -> None:
        """Run an action; a refusal must be an AcdError (never another exception) and change nothing.

        A ``StoreError`` is the database failing, not a refusal: it fails the test."""
        with self.acd.store.transaction():
            before = (self.acd.store.agents(), self.acd.store.offers())
        try:
            action()  # type: ignore[operator]
        except StoreError:
            raise
        except AcdError:
            with self.acd.store.transaction():
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

    @rule(q=st.sampled_from([q.name for q in QUEUES]),
          bands=st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=2, max_size=5))
    def calls_arrive_at_once(self, q: str, bands: list[tuple[int, bool]]) -> None:
        """A burst into one queue, so that calls of several priority bands wait side by side."""
        for priority, vip in bands:
            self.call_arrives(q, priority, vip)

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
    @in_one_transaction
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
    @in_one_transaction
    def nobody_rings_past_the_timeout(self) -> None:
        if self.ticked:
            for offer in self.acd.store.offers():
                assert offer.expires_at > self.now, f"{offer.agent_id} stuck ringing"

    @invariant()
    @in_one_transaction
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
    @in_one_transaction
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


def test_invariants_hold_over_the_memory_store() -> None:
    run_state_machine_as_test(AcdMachine, settings=settings(max_examples=150, stateful_step_count=60,
                                                            deadline=None))


def test_invariants_hold_over_the_sql_store(sql_store: SqlStore) -> None:
    """SQLite and PostgreSQL (``sql_store`` is parametrised); the tables are emptied for every example."""
    examples = 8 if sql_store.engine.dialect.name == "postgresql" else 15  # a round trip per query
    run_state_machine_as_test(lambda: AcdMachine(lambda: wipe(sql_store)),
                              settings=settings(max_examples=examples, stateful_step_count=40, deadline=None))
