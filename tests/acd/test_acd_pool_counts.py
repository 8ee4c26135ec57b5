"""The pool counts ``SqlStore`` keeps in tables (``acd.sql_pools``, migration 0013), on SQLite and
PostgreSQL: they follow every agent change, the database's trigger moves them whoever writes the
state, and a pool not tracked (or whose rows are gone) is counted as before."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import delete, func, select, text

from acd import Acd, AgentState, PassReason, PoolCounts
from acd.model import Skills, requirements_at
from acd.roster import sync_roster
from acd.sql_pools import POOLS_TRACKED_MAX, SQL_POOLS, counts_from, pool_key
from acd.sql_store import SqlStore
from acd.sql_tables import POOL_COUNTS, POOLS

from .acd_helpers import agent, check_store_views, recount
from .small_centre import QUEUES, start_agents

NEEDS = [requirements_at(q.skills, q.escalation, waited) for q in QUEUES for waited in (0, 10, 20)]


def kept(store: SqlStore, needs: Skills) -> PoolCounts | None:
    """The counts as the tables hold them (``None``: the pool is not tracked)."""
    with store.engine.connect() as conn:
        return counts_from(conn.execute(SQL_POOLS.counts, {"pool": pool_key(needs)}).mappings())


def assert_kept_right(store: SqlStore) -> None:
    for needs in NEEDS:
        assert kept(store, needs) == recount(store, needs), needs
        check_store_views(store, needs)


def test_the_pools_of_every_queue_and_stage_are_tracked_and_follow_every_change(sql_store: SqlStore) -> None:
    acd = Acd(QUEUES, store=sql_store, agents=start_agents())
    assert all(kept(sql_store, needs) is not None for needs in NEEDS)
    assert_kept_right(sql_store)
    acd.login("a1", 1.0)
    acd.login("a2", 2.0, paused_reason="lunch")
    acd.login("a3", 3.0)
    acd.enqueue("c1", "100", "billing", 4.0)  # a1 rings
    assert_kept_right(sql_store)
    acd.answer("a1", 5.0)
    acd.enqueue("c2", "101", "general", 6.0)  # a3 rings
    acd.reject("a3", 7.0)  # a3 paused
    acd.end_call("a1", 8.0)  # wrap-up
    assert_kept_right(sql_store)
    acd.tick(20.0)  # a1 ready, takes c2
    acd.login("a4", 21.0, paused_reason="training")
    acd.logout("a4", 21.5)
    assert_kept_right(sql_store)
    # a changed roster: a1's skills rewritten while ringing, a5 new
    changed = [replace(a, skills={"orders": 7, "loyalty": 2}) if a.id == "a1" else a for a in start_agents()]
    sync_roster(sql_store, [*changed, agent("a5", billing=9, general=2)])
    assert sql_store.agent("a1").state is AgentState.RINGING
    assert_kept_right(sql_store)
    acd.login("a5", 22.0)
    acd.reject("a1", 23.0)
    assert_kept_right(sql_store)


def test_the_trigger_moves_the_counts_whoever_writes_the_state(sql_store: SqlStore) -> None:
    Acd(QUEUES, store=sql_store, agents=start_agents())
    with sql_store.engine.begin() as conn:  # behind the store's back
        conn.execute(text("UPDATE acd_agents SET state = 'ready' WHERE id IN ('a1', 'a3')"))
        conn.execute(text("UPDATE acd_agents SET state = 'paused' WHERE id = 'a3'"))
    assert sql_store.agent("a1").state is AgentState.READY
    assert_kept_right(sql_store)
    assert kept(sql_store, {"general": 1}) == PoolCounts(1, {PassReason.LOGGED_OUT: 2, PassReason.PAUSED: 1})


def test_a_pool_not_tracked_or_emptied_behind_the_store_is_counted(sql_store: SqlStore) -> None:
    acd = Acd(QUEUES, store=sql_store, agents=start_agents())
    acd.login("a1", 1.0)
    own = {"billing": 6, "orders": 1}  # a call's own skills: no queue needs them
    assert kept(sql_store, own) is None
    assert sql_store.pool_counts(own) == recount(sql_store, own)
    with sql_store.engine.begin() as conn:
        conn.execute(delete(POOL_COUNTS))
    assert sql_store.pool_counts({"general": 1}) == recount(sql_store, {"general": 1}) == PoolCounts(
        1, {PassReason.LOGGED_OUT: 3})


def test_no_more_than_the_cap_of_pools_is_tracked(sql_store: SqlStore) -> None:
    many = [{f"skill{i:03d}": 1} for i in range(POOLS_TRACKED_MAX + 5)]
    sql_store.track_pools(many)
    sql_store.track_pools(many)  # again: nothing new
    with sql_store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(POOLS)).scalar() == POOLS_TRACKED_MAX
    assert sql_store.pool_counts(many[-1]) == PoolCounts(0, {})
