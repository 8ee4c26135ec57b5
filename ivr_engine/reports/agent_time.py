"""Agent time from the state-change log: login, pause per reason, occupancy (pure interval arithmetic).

Definitions (per agent, inside the report window):
- the agent's state at each moment is the ``to_state`` of the latest change at or before it; before the
  first change seen, the ``from_state`` of that change (so a log that starts mid-shift still counts);
- the window is clipped to what has happened: its end is ``until`` or the service clock's "now",
  whichever is earlier; with no ``since`` it starts at the agent's first change in the log;
- login time = time in any state but ``logged_out``;
- pause time per reason = time in ``paused``, by the ``reason`` of the change that entered it
  (an empty reason is reported as ``(none)``);
- occupancy = (on_call + wrap_up) / (ready + ringing + on_call + wrap_up): the share of the time the
  agent was available or busy with calls that went to handling calls. Ringing counts as available (an
  offer the agent may not take), not as handling; pause is outside both. ``None`` without such time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from acd.model import AgentState

__all__ = ["AgentTime", "StateChange", "agent_times"]

NO_REASON = "(none)"
_BUSY = frozenset({AgentState.ON_CALL.value, AgentState.WRAP_UP.value})
_STAFFED = _BUSY | {AgentState.READY.value, AgentState.RINGING.value}


@dataclass(frozen=True)
class StateChange:
    agent_id: str
    from_state: str
    to_state: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class AgentTime:
    agent_id: str
    login_s: float
    seconds_by_state: tuple[tuple[str, float], ...]
    pause_by_reason: tuple[tuple[str, float], ...]

    def state_s(self, state: str) -> float:
        return dict(self.seconds_by_state).get(state, 0.0)

    @property
    def pause_s(self) -> float:
        return sum(seconds for _, seconds in self.pause_by_reason)

    @property
    def occupancy(self) -> float | None:
        staffed = sum(self.state_s(s) for s in _STAFFED)
        return sum(self.state_s(s) for s in _BUSY) / staffed if staffed > 0 else None


def _one_agent(
    agent_id: str, changes: list[StateChange], since: datetime | None, end: datetime
) -> AgentTime | None:
    changes = sorted(changes, key=lambda c: c.at)
    before = [c for c in changes if since is not None and c.at <= since]
    inside = [c for c in changes if (since is None or c.at > since) and c.at < end]
    if not before and not inside:
        return None
    if before:
        state, reason = before[-1].to_state, before[-1].reason
    else:
        state, reason = inside[0].from_state, ""
    start: datetime = since if since is not None else inside[0].at
    by_state: dict[str, float] = defaultdict(float)
    by_reason: dict[str, float] = defaultdict(float)

    def span(until: datetime) -> None:
        seconds = max(0.0, (until - start).total_seconds())
        by_state[state] += seconds
        if state == AgentState.PAUSED.value:
            by_reason[reason or NO_REASON] += seconds

    for change in inside:
        span(change.at)
        state, reason, start = change.to_state, change.reason, change.at
    if start < end:
        span(end)
    login = sum(s for name, s in by_state.items() if name != AgentState.LOGGED_OUT.value)
    if login <= 0:
        return None  # logged out all along: not part of this window's staffing
    return AgentTime(
        agent_id=agent_id,
        login_s=round(login, 3),
        seconds_by_state=tuple(sorted((k, round(v, 3)) for k, v in by_state.items())),
        pause_by_reason=tuple(sorted((k, round(v, 3)) for k, v in by_reason.items())),
    )


def agent_times(
    changes: Iterable[StateChange], since: datetime | None, until: datetime | None, now: datetime
) -> tuple[AgentTime, ...]:
    """Per agent (sorted by id), the time spent in each state inside ``[since, min(until, now))``.

    ``changes`` must include each agent's latest change at or before ``since`` (its state when the window
    opens) and may include any others; changes at or after the end are ignored. All datetimes aware.
    Agents logged out for the whole window are left out.
    """
    end = now if until is None else min(until, now)
    per_agent: dict[str, list[StateChange]] = defaultdict(list)
    for change in changes:
        per_agent[change.agent_id].append(change)
    if since is not None and since >= end:
        return ()
    results = (_one_agent(agent, per_agent[agent], since, end) for agent in sorted(per_agent))
    return tuple(r for r in results if r is not None)
