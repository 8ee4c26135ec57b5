"""Differential: the same random operations on a memory-backed and an SQL-backed ``Acd`` never differ.

``Twin`` drives both engines with every operation of the state machine in test_acd_stateful.py and
requires the same events (offers with their full explanations, positions, predicted waits) or the same
refusal. After every step the two stores must agree on everything the ``AcdStore`` Protocol answers:
agents by state and skill, offers, each queue's calls in order with their positions and heads, calls
past a wait, pool counts and nearest passed-over agents at each escalation stage, counters, round-robin
cursors, handle times. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule, run_state_machine_as_test

from acd import Acd, AcdError, MemoryStore, OfferMade
from acd.errors import StoreError
from acd.sql_store import SqlStore
from acd.store import AcdStore

from .acd_helpers import wipe
from .small_centre import QUEUES, SKILLS, start_agents, store_view
from .test_acd_stateful import AcdMachine


def _outcome(run: Callable[[], Any]) -> tuple[tuple[Any, ...], AcdError | None]:
    """What an operation gave (its result with every offer's decision, or the refusal), and the refusal."""
    try:
        result = run()
    except StoreError:
        raise
    except AcdError as exc:
        return ("refused", type(exc).__name__, str(exc)), exc
    events = result if isinstance(result, list) else []
    return ("ok", result, [e.offer.decision for e in events if isinstance(e, OfferMade)]), None


class Twin:
    """Two engines driven alike; each call must give the same outcome on both (else the test fails)."""

    def __init__(self, memory: Acd, sql: Acd) -> None:
        self.memory = memory
        self.sql = sql

    @property
    def store(self) -> AcdStore:
        return self.sql.store

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def both(*args: Any, **kwargs: Any) -> Any:
            mine, _ = _outcome(lambda: getattr(self.memory, name)(*args, **kwargs))
            theirs, refusal = _outcome(lambda: getattr(self.sql, name)(*args, **kwargs))
            assert mine == theirs, f"{name}{args}: memory gave {mine}, SQL gave {theirs}"
            if refusal is not None:
                raise refusal  # for the machine's _try
            return theirs[1]

        return both


class DifferentialMachine(AcdMachine):
    """The stateful machine's operations on a ``Twin``; its own invariants are checked there."""

    @initialize()
    def start(self) -> None:
        self.acd = Twin(Acd(QUEUES, store=MemoryStore(), agents=start_agents()),
                        Acd(QUEUES, store=self.make_store(), agents=start_agents()))
        self.now = 0.0
        self.calls = 0
        self.ticked = True

    @rule()
    def ask_about_every_call(self) -> None:
        """The read side: positions, re-estimated waits, queue status."""
        for q in QUEUES:
            for call in self.acd.sql.store.waiting(q.name):
                self.acd.position(call.id)
                self.acd.expected_wait(call.id, self.now)
            self.acd.queue_status(q.name, self.now)
        self._try(lambda: self.acd.call("c0"))  # unknown: both must refuse alike

    @rule(agent_id=st.sampled_from(sorted(SKILLS)))
    def look_up_agent(self, agent_id: str) -> None:
        self.acd.agent(agent_id)

    @invariant()
    def stores_agree(self) -> None:
        with self.acd.sql.store.transaction():
            theirs = store_view(self.acd.sql.store, self.now)
        mine = store_view(self.acd.memory.store, self.now)
        for key in mine:
            assert mine[key] == theirs[key], f"{key}: memory {mine[key]} != SQL {theirs[key]}"
        assert self.acd.sql.store.next_seq() == self.acd.memory.store.next_seq()  # both advance alike


def test_memory_and_sql_engines_never_differ(sql_store: SqlStore) -> None:
    """SQLite and PostgreSQL (``sql_store`` is parametrised); the tables are emptied for every example."""
    examples = 8 if sql_store.engine.dialect.name == "postgresql" else 20  # a round trip per query
    run_state_machine_as_test(lambda: DifferentialMachine(lambda: wipe(sql_store)),
                              settings=settings(max_examples=examples, stateful_step_count=40, deadline=None))
