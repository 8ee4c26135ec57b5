"""Routing strategies as objects, one per ``Strategy`` name, in a registry.

A strategy ranks the eligible agents for a call (``rank``: a sort key, the smallest wins, always ending on
the agent id so the choice is deterministic) and says why an agent ranked where it did (``why``: the
figure shown in a decision's explanation). ``strategy_for`` is the only way in: a name without a strategy
is an ``UnknownStrategy`` error, never a silent default.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

from acd.errors import UnknownStrategy
from acd.model import Agent, Skills, Strategy

__all__ = ["STRATEGIES", "RoutingStrategy", "strategy_for"]


class RoutingStrategy(Protocol):
    @property
    def name(self) -> Strategy: ...

    def rank(self, agent: Agent, required: Skills, rr_cursor: str | None) -> tuple[object, ...]:
        """Sort key of a candidate: the smallest key wins; the agent id breaks ties."""
        ...

    def why(self, agent: Agent, required: Skills, at: float) -> str:
        """The strategy's figure for ``agent`` at time ``at``, as shown in the explanation."""
        ...


class LongestIdle:
    name = Strategy.LONGEST_IDLE

    def rank(self, agent: Agent, required: Skills, rr_cursor: str | None) -> tuple[object, ...]:
        return (agent.idle_since, agent.id)

    def why(self, agent: Agent, required: Skills, at: float) -> str:
        return f"longest idle: ready for {at - agent.idle_since:g}s"


class FewestCalls:
    name = Strategy.FEWEST_CALLS

    def rank(self, agent: Agent, required: Skills, rr_cursor: str | None) -> tuple[object, ...]:
        return (agent.calls_taken, agent.idle_since, agent.id)

    def why(self, agent: Agent, required: Skills, at: float) -> str:
        return f"fewest calls: {agent.calls_taken} taken"


class BestSkill:
    name = Strategy.BEST_SKILL

    def rank(self, agent: Agent, required: Skills, rr_cursor: str | None) -> tuple[object, ...]:
        return (-sum(agent.skills.get(s, 0) for s in required), agent.idle_since, agent.id)

    def why(self, agent: Agent, required: Skills, at: float) -> str:
        levels = ", ".join(f"{s} {agent.skills.get(s, 0)}" for s in sorted(required))
        return f"best skill: {levels or 'no skill required'}"


class RoundRobin:
    """The next agent id after the last agent offered (``rr_cursor``, per queue), wrapping around."""

    name = Strategy.ROUND_ROBIN

    def rank(self, agent: Agent, required: Skills, rr_cursor: str | None) -> tuple[object, ...]:
        after_cursor = rr_cursor is None or agent.id > rr_cursor
        return (0 if after_cursor else 1, agent.id)

    def why(self, agent: Agent, required: Skills, at: float) -> str:
        return "round robin: next in turn after the last agent offered"


STRATEGIES: Mapping[Strategy, RoutingStrategy] = MappingProxyType({
    strategy.name: strategy for strategy in (LongestIdle(), FewestCalls(), BestSkill(), RoundRobin())
})
"""Every routing strategy by name; tests/acd/test_acd_strategies.py checks each ``Strategy`` has one."""


def strategy_for(name: str, queue: str | None = None) -> RoutingStrategy:
    """The strategy called ``name`` (a ``Strategy`` or its text); ``UnknownStrategy`` (naming ``queue``
    when given) for any other name."""
    try:
        return STRATEGIES[Strategy(name)]
    except (ValueError, KeyError):
        raise UnknownStrategy(name, list(STRATEGIES), queue) from None
