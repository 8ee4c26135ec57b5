"""Builders shared by the ACD tests."""

from __future__ import annotations

import heapq
from collections import Counter

from sqlalchemy import delete

from acd import Acd, AcdStore, Agent, EscalationStep, PassReason, PoolCounts, Queue, Strategy
from acd.events import AcdEvent, OfferMade
from acd.model import Skills
from acd.routing import PASSED_OVER_NAMED, eligible, nearest_key, pass_reason
from acd.sql_store import SqlStore
from acd.sql_tables import METADATA


def agent(agent_id: str, **skills: int) -> Agent:
    return Agent(agent_id, f"Agent {agent_id}", f"PJSIP/{agent_id}", dict(skills))


def queue(name: str, strategy: Strategy = Strategy.LONGEST_IDLE, *,
          escalation: tuple[EscalationStep, ...] = (), **skills: int) -> Queue:
    return Queue(name, dict(skills), strategy=strategy, escalation=escalation, wrap_up_seconds=5,
                 ring_timeout=15, max_wait=120)


def offers(events: list[AcdEvent]) -> list[tuple[str, str]]:
    """(call, agent) of every offer made, in order."""
    return [(e.offer.call_id, e.offer.agent_id) for e in events if isinstance(e, OfferMade)]


def ready_all(acd: Acd, ids: list[str], start: float = 0.0) -> None:
    """Log agents in one second apart, in the given order (earliest = longest idle)."""
    for i, agent_id in enumerate(ids):
        acd.login(agent_id, start + i)


def pool_of(store: AcdStore, needs: Skills) -> list[Agent]:
    """The agents holding any of ``needs`` (every agent when there are none)."""
    return [a for a in store.agents() if not needs or any(s in a.skills for s in needs)]


def recount(store: AcdStore, needs: Skills) -> PoolCounts:
    """Every agent of the pool classified by ``acd.routing``, as the memory store does."""
    pool = pool_of(store, needs)
    tally: Counter[PassReason] = Counter()
    for a in pool:
        reason = pass_reason(a, needs)
        if reason is not None:
            tally[reason[0]] += 1
    return PoolCounts(sum(1 for a in pool if eligible(a, needs)), dict(tally))


def check_store_views(store: AcdStore, needs: Skills) -> None:
    """The store's incremental counts and nearest list agree with a recount of every agent."""
    pool = pool_of(store, needs)
    counts, expected = store.pool_counts(needs), recount(store, needs)
    assert counts.eligible == expected.eligible
    assert counts.passed == expected.passed
    passed = [a for a in pool if not eligible(a, needs)]
    want = heapq.nsmallest(PASSED_OVER_NAMED, passed, key=nearest_key)
    assert store.nearest_passed(needs, PASSED_OVER_NAMED) == want


def wipe(store: SqlStore) -> SqlStore:
    """Empty every ACD state table (a fresh store for the next hypothesis example); returns ``store``."""
    with store.engine.begin() as conn:
        for table in reversed(METADATA.sorted_tables):
            conn.execute(delete(table))
    return store
