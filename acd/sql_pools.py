"""The pools whose counts per pass reason ``SqlStore`` keeps in tables instead of counting them.

A pool is a set of needed skills (``AcdStore.pool_counts``). A tracked pool (``acd_pools``, keyed by
the skills' canonical JSON) has a row in ``acd_pool_members`` for each agent holding one of its needed
skills, with the skill reason that agent is passed over for (``NULL``: it has every skill at its
level), and ``acd_pool_counts``: its members per bucket, the bucket being that skill reason or else the
member's state. Who writes what:

- tracking a pool (``track``) writes its members and counts from every agent, under a lock that waits
  for every transaction writing agents and holds off new ones until it commits (PostgreSQL: ``SHARE`` on
  ``acd_agents``; SQLite's ``BEGIN IMMEDIATE`` already excludes every other writer), so no agent change
  is missed or counted twice;
- an agent's state change moves its skilled memberships from the old state's bucket to the new one:
  the database's trigger ``acd_agents_pool_counts`` (migration 0013), from the row's own old and new
  values whoever writes it; on PostgreSQL it locks the count rows in key order first, so two
  transactions moving agents at once never deadlock;
- an agent written anew (new, or its skills changed: ``reckon_agent``) has its memberships worked out
  again here, with ``acd.routing``'s own rules, and the counts moved by the difference, in key order.

Reading a tracked pool's counts is then one index lookup (``counts_from``); a pool that is not tracked
(a call's own skills, or the tables emptied behind the store's back) is counted by ``pool_counts_query``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, text, update

from acd.model import Agent, AgentState, PassReason, PoolCounts, Skills
from acd.routing import STATE_REASON, holds_any, skill_gap
from acd.sql_codec import skills_from, skills_text
from acd.sql_tables import POOL_COUNTS, POOL_MEMBERS, POOLS

__all__ = ["POOLS_TRACKED_MAX", "SQL_POOLS", "counted_from", "counts_from", "pool_key", "reckon_agent",
           "track"]

POOLS_TRACKED_MAX = 64
"""Pools tracked at most: each costs a little on every agent state change; others are counted."""

_BUCKETS = (PassReason.MISSING_SKILL.value, PassReason.LEVEL_TOO_LOW.value, *(s.value for s in AgentState))
_C, _M = POOL_COUNTS.c, POOL_MEMBERS.c


class SQL_POOLS:
    """The statements of the tracked pools (as ``sql_queries.SQL``)."""

    pools = select(POOLS.c.pool).order_by(POOLS.c.pool)
    counts = select(_C.bucket, _C.agents).where(_C.pool == bindparam("pool"))
    memberships = select(_M.pool, _M.skill_reason).where(_M.agent_id == bindparam("agent_id"))
    drop_memberships = POOL_MEMBERS.delete().where(_M.agent_id == bindparam("agent_id"))
    add_members = insert(POOL_MEMBERS)
    add_pool = insert(POOLS)
    add_counts = insert(POOL_COUNTS)
    move_counts = (update(POOL_COUNTS)
                   .where(_C.pool == bindparam("key_pool"), _C.bucket == bindparam("key_bucket"))
                   .values(agents=_C.agents + bindparam("delta")))
    lock_agents = text("LOCK TABLE acd_agents IN SHARE MODE")


def pool_key(required: Skills) -> str:
    return skills_text(required)


def _bucket(agent: Agent, needs: Skills) -> tuple[str | None, str] | None:
    """``agent``'s membership of the pool needing ``needs``: (its skill reason, its bucket), or ``None``
    if it holds none of the needed skills."""
    if not holds_any(agent, needs):
        return None
    gap = skill_gap(agent, needs)
    reason = None if gap is None else gap[0].value
    return reason, reason if reason is not None else agent.state.value


def counts_from(rows: Iterable[Mapping[str, Any]]) -> PoolCounts | None:
    """A tracked pool's counts from its ``acd_pool_counts`` rows; ``None`` if there are none (not tracked)."""
    found = False
    eligible = 0
    passed: dict[PassReason, int] = {}
    for row in rows:
        found = True
        bucket, agents = row["bucket"], int(row["agents"])
        if not agents:
            continue
        if bucket == AgentState.READY.value:
            eligible = agents
        elif bucket in AgentState._value2member_map_:
            passed[STATE_REASON[AgentState(bucket)]] = agents
        else:
            passed[PassReason(bucket)] = agents
    return PoolCounts(eligible, passed) if found else None


def track(conn: Connection, postgres: bool, requirements: Iterable[Skills],
          read_agents: Callable[[], list[Agent]]) -> set[str]:
    """Track the pools of ``requirements`` not tracked yet (while fewer than ``POOLS_TRACKED_MAX`` are);
    the keys of those now tracked. ``read_agents()`` lists every agent (after the lock is taken)."""
    wanted = sorted({pool_key(r) for r in requirements})
    tracked = {row.pool for row in conn.execute(SQL_POOLS.pools)}
    new = [k for k in wanted if k not in tracked][:max(0, POOLS_TRACKED_MAX - len(tracked))]
    if new:
        if postgres:
            conn.execute(SQL_POOLS.lock_agents)
        everyone = read_agents()
        for key in new:
            _track_one(conn, key, everyone)
    return {k for k in wanted if k in tracked or k in new}


def _track_one(conn: Connection, key: str, agents: list[Agent]) -> None:
    needs = skills_from(key)
    members: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    for agent in agents:
        membership = _bucket(agent, needs)
        if membership is not None:
            members.append({"agent_id": agent.id, "pool": key, "skill_reason": membership[0]})
            counts[membership[1]] += 1
    conn.execute(SQL_POOLS.add_pool, {"pool": key})
    if members:
        conn.execute(SQL_POOLS.add_members, members)
    conn.execute(SQL_POOLS.add_counts, [{"pool": key, "bucket": b, "agents": counts[b]} for b in _BUCKETS])


def reckon_agent(conn: Connection, agent: Agent, pools: list[str]) -> None:
    """After ``agent``'s row and skills were written anew (it is new, or its skills changed): its
    memberships of the tracked ``pools`` worked out again and the counts moved by the difference. The
    trigger has already moved its old memberships to its new state's bucket."""
    delta: Counter[tuple[str, str]] = Counter()
    for row in conn.execute(SQL_POOLS.memberships, {"agent_id": agent.id}):
        delta[(row.pool, row.skill_reason or agent.state.value)] -= 1
    conn.execute(SQL_POOLS.drop_memberships, {"agent_id": agent.id})
    members = []
    for key in pools:
        membership = _bucket(agent, skills_from(key))
        if membership is not None:
            members.append({"agent_id": agent.id, "pool": key, "skill_reason": membership[0]})
            delta[(key, membership[1])] += 1
    if members:
        conn.execute(SQL_POOLS.add_members, members)
    moves = [{"key_pool": p, "key_bucket": b, "delta": d} for (p, b), d in sorted(delta.items()) if d]
    if moves:  # in key order, as the trigger locks them
        conn.execute(SQL_POOLS.move_counts, moves)


def counted_from(rows: Iterable[Mapping[str, Any]]) -> PoolCounts:
    """An untracked pool's counts from the rows of ``pool_counts_query`` (reason or ``NULL``, agents)."""
    eligible = 0
    passed: dict[PassReason, int] = {}
    for row in rows:
        if row["reason"] is None:
            eligible = int(row["agents"])
        else:
            passed[PassReason(row["reason"])] = int(row["agents"])
    return PoolCounts(eligible, passed)
