"""Typed model of the ACD: agents, queues, waiting calls, offers and the reasons behind them.

Times are plain ``float`` seconds from a clock the caller passes in (monotonic or epoch, as long as one
ACD uses one clock). All records are frozen; the engine replaces them in the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "CALLBACK_PREFIX",
    "Agent",
    "AgentState",
    "Decision",
    "EscalationStep",
    "Offer",
    "PassReason",
    "PassedOver",
    "PoolCounts",
    "Queue",
    "Skills",
    "Strategy",
    "WaitingCall",
    "callback_entry",
    "callback_of",
    "requirements_at",
]

CALLBACK_PREFIX = "callback:"
"""A booked callback waits in the ACD under this prefix and the original call's id: it keeps the caller's
place (``enqueued_at``: when they first joined the queue) and never overflows (nobody is on hold)."""


def callback_entry(call_id: str) -> str:
    """The ACD's id of the callback booked during call ``call_id``."""
    return CALLBACK_PREFIX + call_id


def callback_of(entry_id: str) -> str | None:
    """The original call's id if ``entry_id`` is a callback's, else None."""
    return entry_id.removeprefix(CALLBACK_PREFIX) if entry_id.startswith(CALLBACK_PREFIX) else None

Skills = Mapping[str, int]
"""Skill name -> level (1-10). On a queue or call: the minimum level required."""


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    PAUSED = "paused"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


class Strategy(StrEnum):
    LONGEST_IDLE = "longest-idle"
    FEWEST_CALLS = "fewest-calls"
    BEST_SKILL = "best-skill"
    ROUND_ROBIN = "round-robin"


@dataclass(frozen=True)
class Agent:
    """An agent and their live state.

    ``current_call``/``current_queue`` are set while ringing, on a call and in wrap-up;
    ``wrap_up_until`` only in wrap-up. ``idle_since`` is what longest-idle ranks on.
    """

    id: str
    name: str
    endpoint: str
    skills: Skills
    state: AgentState = AgentState.LOGGED_OUT
    state_since: float = 0.0
    pause_reason: str = ""
    calls_taken: int = 0
    last_call_end: float | None = None
    current_call: str | None = None
    current_queue: str | None = None
    answered_at: float | None = None
    wrap_up_until: float | None = None

    @property
    def idle_since(self) -> float:
        """For a ready agent: when they became ready (after login, a pause or wrap-up)."""
        return self.state_since


@dataclass(frozen=True)
class EscalationStep:
    """After ``after_seconds`` of waiting, require ``min_level`` of ``skill``, or drop it when ``None``."""

    after_seconds: float
    skill: str
    min_level: int | None


@dataclass(frozen=True)
class Queue:
    name: str
    skills: Skills
    strategy: Strategy = Strategy.LONGEST_IDLE
    wrap_up_seconds: float = 5.0
    ring_timeout: float = 15.0
    max_wait: float = 120.0
    announce_interval: float = 30.0
    escalation: tuple[EscalationStep, ...] = ()
    default_handle_seconds: float = 180.0
    record: bool = False
    """Record the caller-agent conversation (both parties); callers of such a queue hear the recording
    notice before they are queued (the flows' ``transfer`` node plays it)."""


def requirements_at(base: Skills, steps: tuple[EscalationStep, ...], waited: float) -> dict[str, int]:
    """The skills a call needs after waiting ``waited`` seconds: ``base`` relaxed by the due steps.

    Steps only ever relax (a lower level, or a dropped skill), so eligibility grows with waiting time.
    """
    needed = dict(base)
    for step in steps:
        if step.after_seconds > waited or step.skill not in needed:
            continue
        if step.min_level is None:
            del needed[step.skill]
        else:
            needed[step.skill] = min(needed[step.skill], step.min_level)
    return needed


@dataclass(frozen=True)
class WaitingCall:
    """A caller waiting in a queue. Service order: VIP first, then higher priority, then FIFO."""

    id: str
    caller: str
    queue: str
    enqueued_at: float
    seq: int
    skills: Skills
    priority: int = 0
    vip: bool = False
    predicted_wait: float | None = None
    offered_to: str | None = None

    @property
    def band(self) -> tuple[int, int]:
        """Sort key of the priority band: lower sorts first."""
        return (0 if self.vip else 1, -self.priority)

    @property
    def order(self) -> tuple[int, int, float, int]:
        return (*self.band, self.enqueued_at, self.seq)


class PassReason(StrEnum):
    MISSING_SKILL = "missing skill"
    LEVEL_TOO_LOW = "level too low"
    LOGGED_OUT = "logged out"
    PAUSED = "paused"
    RINGING = "ringing"
    BUSY = "busy"
    WRAP_UP = "wrap-up"
    RANKED_LOWER = "ranked lower"


@dataclass(frozen=True)
class PassedOver:
    agent_id: str
    reason: PassReason
    detail: str = ""


@dataclass(frozen=True)
class PoolCounts:
    """How the agents holding a needed skill split for one set of needed skills.

    ``eligible`` are ready with every skill at its level; ``passed`` counts the others by the reason
    ``acd.routing.pass_reason`` gives (never ``RANKED_LOWER``: that is decided among the eligible).
    """

    eligible: int = 0
    passed: Mapping[PassReason, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.eligible + sum(self.passed.values())


@dataclass(frozen=True)
class Decision:
    """Why an offer went to ``chosen``, and why the other agents holding a needed skill did not get it.

    ``passed_over_counts`` counts every agent holding a needed skill, other than ``chosen``, by reason
    (ranked lower, missing skill, level too low, logged out, paused, ringing, busy, wrap-up).
    ``passed_over`` names, sorted by id, every ready agent that lost on the strategy (``RANKED_LOWER``
    with its figure) and at most ``acd.routing.PASSED_OVER_NAMED`` of the others, nearest to available
    first (ready with a skill gap, wrap-up, ringing, busy, paused, logged out; then longest in that
    state, then id). Agents holding none of the needed skills are only counted (``without_any_skill``),
    so a decision costs time in proportion to the ready agents, not the skill's pool or the centre.
    """

    chosen: str
    strategy: Strategy
    why: str
    required: Skills
    passed_over: tuple[PassedOver, ...] = ()
    without_any_skill: int = 0
    passed_over_counts: Mapping[PassReason, int] = field(default_factory=dict)

    @property
    def passed_over_total(self) -> int:
        """Agents holding a needed skill that were not chosen, named or not."""
        return sum(self.passed_over_counts.values())

    def reason_for(self, agent_id: str) -> PassReason | None:
        """The reason of a named agent; ``None`` for the chosen agent and agents not named."""
        for entry in self.passed_over:
            if entry.agent_id == agent_id:
                return entry.reason
        return None


@dataclass(frozen=True)
class Offer:
    """A call ringing at one agent until ``expires_at``."""

    call_id: str
    agent_id: str
    queue: str
    at: float
    expires_at: float
    decision: Decision = field(compare=False)
