"""Routing's reads sent ahead of the transaction's own agent saves, and set right for them here.

An agent that becomes ready and takes a call is saved twice in one operation (ready, then ringing).
Written before the routing reads, as every other read has it, that is two ``UPDATE``s of its row, each
moving the pool counts by trigger, and the reads wait for the first. When every agent the transaction
has saved but not written yet is known as the database has it (read or written by the transaction)
and keeps its skills, ``SqlStore.routing_reads`` instead reads ahead of those saves, and this module
gives the answers the reads would have given after them, from the saved records themselves and
``acd.routing``'s own rules (the ones the SQL of ``acd.sql_queries`` and the pool-count tables follow):

- the ready agents holding a skill: the saved agents left out of the rows, then added back where they
  are ready and hold it, in id order;
- a pool's counts: each saved agent taken out of the bucket its stored record is counted in and put in
  the one of its saved record (its skills are the same, so it is in the same pools);
- the nearest passed-over: read with the limit raised by the number of saved agents, those left out,
  the saved ones that are passed over added, in ``nearest_key`` order, cut to the limit.

The agents are then written once, with the transaction's next batch (usually its last, with the
``COMMIT``). Locks are unchanged: a saved agent's row is locked by its ``UPDATE``.
"""

from __future__ import annotations

from typing import Any

from acd.model import Agent, AgentState, PassReason, PoolCounts, Skills
from acd.routing import eligible, holds_any, nearest_key, pass_reason
from acd.sql_codec import skills_text

__all__ = ["counts_after", "nearest_after", "readable_ahead", "ready_after", "without"]


def readable_ahead(pending: list[Agent], was: dict[str, Agent], stored: dict[str, str]) -> bool:
    """Agents are saved, and each is known as stored (``was``) with the skills it is saved with
    (``stored``: the skills of each agent as the database has them, as ``sql_codec.skills_text``)."""
    return bool(pending) and all(
        a.id in was and was[a.id].skills == a.skills and stored.get(a.id) == skills_text(a.skills)
        for a in pending)


def without(rows: list[Any], pending: list[Agent]) -> list[Any]:
    """``rows`` of agents but the saved ones."""
    saved = {a.id for a in pending}
    return [row for row in rows if row["id"] not in saved]


def ready_after(read: list[Agent], pending: list[Agent], skill: str | None) -> list[Agent]:
    """``ready_agents(skill)`` after the saves, from ``read`` (before them, saved agents left out)."""
    added = [a for a in pending if a.state is AgentState.READY and (skill is None or skill in a.skills)]
    return sorted([*read, *added], key=lambda a: a.id) if added else read


def counts_after(counts: PoolCounts, pending: list[Agent], was: dict[str, Agent],
                 required: Skills) -> PoolCounts:
    """A pool's counts after the saves, from ``counts`` before them."""
    eligible_now = counts.eligible
    passed: dict[PassReason, int] = dict(counts.passed)
    for saved in pending:
        for agent, delta in ((was[saved.id], -1), (saved, 1)):
            if not holds_any(agent, required):
                continue
            reason = pass_reason(agent, required)
            if reason is None:
                eligible_now += delta
            else:
                passed[reason[0]] = passed.get(reason[0], 0) + delta
    return PoolCounts(eligible_now, {r: n for r, n in passed.items() if n})


def nearest_after(read: list[Agent], pending: list[Agent], required: Skills, limit: int) -> list[Agent]:
    """``nearest_passed(required, limit)`` after the saves, from ``read``: read before them with the
    limit raised by ``len(pending)``, saved agents left out."""
    added = [a for a in pending if holds_any(a, required) and not eligible(a, required)]
    return sorted([*read, *added], key=nearest_key)[:limit]
