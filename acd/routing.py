"""Choosing an agent for a call: eligibility, the strategy's pick (acd.strategies), and the explanation.

Pure functions over agents the store hands in. Ties always end on the agent id, so the same state and
clock give the same choice. ``decide`` builds a decision from the eligible agents, a bounded list of the
others and their counts per reason (what the engine gets from the store's indexes); ``choose_agent``
derives the same three from any list of agents by a full scan (the reference the tests and the
benchmark's baseline compare against).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from acd.model import Agent, AgentState, Decision, PassedOver, PassReason, PoolCounts, Skills, Strategy
from acd.strategies import strategy_for

__all__ = [
    "NEAREST_FIRST",
    "PASSED_OVER_NAMED",
    "STATE_REASON",
    "RoutingInput",
    "choose_agent",
    "decide",
    "eligible",
    "has_skills",
    "holds_any",
    "nearest_key",
    "pass_reason",
    "skill_gap",
]

PASSED_OVER_NAMED = 10
"""How many agents a decision names besides the chosen one and the ready agents that ranked lower."""

NEAREST_FIRST: tuple[AgentState, ...] = (
    AgentState.READY,
    AgentState.WRAP_UP,
    AgentState.RINGING,
    AgentState.ON_CALL,
    AgentState.PAUSED,
    AgentState.LOGGED_OUT,
)
"""Order in which passed-over agents are named: nearest to being available first."""
_STATE_RANK = {state: rank for rank, state in enumerate(NEAREST_FIRST)}

STATE_REASON: dict[AgentState, PassReason] = {
    AgentState.LOGGED_OUT: PassReason.LOGGED_OUT,
    AgentState.PAUSED: PassReason.PAUSED,
    AgentState.RINGING: PassReason.RINGING,
    AgentState.ON_CALL: PassReason.BUSY,
    AgentState.WRAP_UP: PassReason.WRAP_UP,
}
"""The reason an agent holding the needed skills is passed over in each state but ready."""


def skill_gap(agent: Agent, required: Skills) -> tuple[PassReason, str] | None:
    """The first needed skill (by name) ``agent`` lacks or holds too low, as a pass reason; else ``None``."""
    for skill in sorted(required):
        level = agent.skills.get(skill)
        if level is None:
            return PassReason.MISSING_SKILL, skill
        if level < required[skill]:
            return PassReason.LEVEL_TOO_LOW, f"{skill} {level} < {required[skill]}"
    return None


def pass_reason(agent: Agent, required: Skills) -> tuple[PassReason, str] | None:
    """Why ``agent`` cannot take a call needing ``required`` now, or ``None`` if they can.

    Skills are judged before state, so a paused agent without the skill reads "missing skill".
    """
    gap = skill_gap(agent, required)
    if gap is not None:
        return gap
    if agent.state is AgentState.READY:
        return None
    detail = agent.pause_reason if agent.state is AgentState.PAUSED else ""
    return STATE_REASON[agent.state], detail


def holds_any(agent: Agent, required: Skills) -> bool:
    """Holds at least one needed skill (at any level); everyone does when nothing is needed."""
    return not required or any(skill in agent.skills for skill in required)


def nearest_key(agent: Agent) -> tuple[int, float, str]:
    """Sort key naming passed-over agents: state in ``NEAREST_FIRST`` order, longest in it, then id."""
    return (_STATE_RANK[agent.state], agent.state_since, agent.id)


def has_skills(agent: Agent, required: Skills) -> bool:
    return skill_gap(agent, required) is None


def eligible(agent: Agent, required: Skills) -> bool:
    """Ready and skilled enough: may be offered a call needing ``required`` now."""
    return agent.state is AgentState.READY and skill_gap(agent, required) is None


@dataclass(frozen=True)
class RoutingInput:
    """Agents to choose from by a full scan; those holding none of the needed skills are only counted.

    ``without_any_skill`` adds agents the caller left out of ``pool`` because they hold none.
    """

    required: Skills
    pool: Iterable[Agent]
    strategy: Strategy
    at: float
    rr_cursor: str | None = None
    without_any_skill: int = 0


def decide(
    required: Skills,
    strategy: Strategy,
    at: float,
    *,
    candidates: Sequence[Agent],
    others: Iterable[Agent],
    counts: PoolCounts,
    rr_cursor: str | None = None,
    without_any_skill: int = 0,
) -> Decision | None:
    """The best of ``candidates`` (the eligible agents), or ``None`` if there are none.

    ``others`` are the passed-over agents to name besides the candidates that lose (at most
    ``PASSED_OVER_NAMED``, see ``nearest_key``); ``counts`` are the pool's counts per reason. Costs time
    in proportion to the candidates and the named agents only.
    """
    ranking = strategy_for(strategy)
    if not candidates:
        return None
    best = min(candidates, key=lambda a: ranking.rank(a, required, rr_cursor))
    passed = [PassedOver(a.id, PassReason.RANKED_LOWER, ranking.why(a, required, at))
              for a in candidates if a.id != best.id]
    for agent in others:
        reason = pass_reason(agent, required)
        if reason is None:
            raise ValueError(f"agent {agent.id} is eligible: it belongs with the candidates")
        passed.append(PassedOver(agent.id, reason[0], reason[1]))
    passed.sort(key=lambda p: p.agent_id)
    tally = {**counts.passed, PassReason.RANKED_LOWER: len(candidates) - 1}
    return Decision(
        chosen=best.id,
        strategy=strategy,
        why=ranking.why(best, required, at),
        required=dict(required),
        passed_over=tuple(passed),
        without_any_skill=without_any_skill,
        passed_over_counts={r: tally[r] for r in PassReason if tally.get(r)},
    )


def choose_agent(inp: RoutingInput) -> Decision | None:
    """``decide`` over any list of agents, by a full scan of it: the reference the indexed path matches."""
    pool = list(inp.pool)
    holders = [a for a in pool if holds_any(a, inp.required)]
    outside = len(pool) - len(holders)
    candidates = sorted((a for a in holders if eligible(a, inp.required)), key=lambda a: a.id)
    passed = [a for a in holders if not eligible(a, inp.required)]
    tally: Counter[PassReason] = Counter()
    for agent in passed:
        reason = pass_reason(agent, inp.required)
        if reason is not None:
            tally[reason[0]] += 1
    return decide(
        inp.required,
        inp.strategy,
        inp.at,
        candidates=candidates,
        others=heapq.nsmallest(PASSED_OVER_NAMED, passed, key=nearest_key),
        counts=PoolCounts(len(candidates), dict(tally)),
        rr_cursor=inp.rr_cursor,
        without_any_skill=inp.without_any_skill + outside,
    )
