"""The agent state machine: an explicit transition table and the one function that applies it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from acd.errors import InvalidTransition
from acd.model import Agent, AgentState

__all__ = ["TRANSITIONS", "StateChange", "transition"]

S = AgentState

TRANSITIONS: dict[AgentState, frozenset[AgentState]] = {
    S.LOGGED_OUT: frozenset({S.READY, S.PAUSED}),
    S.READY: frozenset({S.PAUSED, S.RINGING, S.LOGGED_OUT}),
    # paused -> paused changes the reason code.
    S.PAUSED: frozenset({S.READY, S.PAUSED, S.LOGGED_OUT}),
    # An offer always resolves: answered, refused/unanswered (paused), caller gone (ready), logout.
    S.RINGING: frozenset({S.ON_CALL, S.PAUSED, S.READY, S.LOGGED_OUT}),
    S.ON_CALL: frozenset({S.WRAP_UP}),
    S.WRAP_UP: frozenset({S.READY, S.PAUSED, S.LOGGED_OUT}),
}


@dataclass(frozen=True)
class StateChange:
    """One agent state change, for the caller to store (the agent's state history)."""

    agent_id: str
    from_state: AgentState
    to_state: AgentState
    reason: str
    at: float


def transition(
    agent: Agent, to: AgentState, reason: str, at: float, **changes: Any
) -> tuple[Agent, StateChange]:
    """Move ``agent`` to ``to`` if the table allows it; ``changes`` set other fields at the same time.

    Leaving ringing/on-call/wrap-up bookkeeping consistent is the engine's job; this only guards the
    table and stamps the time.
    """
    if to not in TRANSITIONS[agent.state]:
        raise InvalidTransition(agent.id, agent.state.value, to.value)
    pause_reason = reason if to is AgentState.PAUSED else ""
    moved = replace(agent, state=to, state_since=at, pause_reason=pause_reason, **changes)
    return moved, StateChange(agent.id, agent.state, to, reason, at)
