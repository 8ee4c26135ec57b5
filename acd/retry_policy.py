"""What happens to a callback after an attempt to place it: pure, so every rule is unit-tested.

A callback is dialled up to ``attempts`` times. An attempt the customer answered closes it (``done``).
One they did not answer, or found busy, or that could not be dialled at all, puts it back in line
``spacing_s`` seconds later, at its original place (the time the caller first joined the queue), until
the last attempt, after which it is given up (``failed``). An attempt that ended on the agent's side
(the agent hung up or was unreachable before the customer was dialled) does not count: the customer
was never called. A number that can never be dialled, and a callback whose queue is no longer
configured, are given up at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["AttemptResult", "NextStep", "RetryPolicy"]


class AttemptResult(StrEnum):
    CONNECTED = "connected"
    """The customer answered and was bridged to the agent."""
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    """The customer's leg could not be set up (the trunk refused it, an ARI error)."""
    AGENT_GONE = "agent_gone"
    """The agent's leg ended before the customer answered: not the customer's attempt."""
    NOT_DIALABLE = "not_dialable"
    NO_QUEUE = "no_queue"
    """The callback's queue is no longer configured (left ``acd.yaml``): nobody can be offered it."""

    @property
    def dialled(self) -> bool:
        """The customer's number was dialled in this attempt (whatever came of it)."""
        return self not in _NOT_DIALLED


_GIVEN_UP_AT_ONCE = frozenset({AttemptResult.NOT_DIALABLE, AttemptResult.NO_QUEUE})
_NOT_DIALLED = _GIVEN_UP_AT_ONCE | {AttemptResult.AGENT_GONE}


_COUNTED = frozenset({AttemptResult.NO_ANSWER, AttemptResult.BUSY, AttemptResult.FAILED})


@dataclass(frozen=True)
class NextStep:
    """Where the callback goes: ``status`` (``done``, ``pending`` or ``failed``), its attempts so far, and
    when it is due again (epoch seconds; None unless pending)."""

    status: str
    attempts: int
    due_at: float | None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    spacing_s: float = 300.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a callback needs at least one attempt")
        if self.spacing_s < 0:
            raise ValueError("the spacing between attempts cannot be negative")

    def after(self, result: AttemptResult, attempts_before: int, now: float) -> NextStep:
        """The step after an attempt that ended with ``result`` at ``now``, ``attempts_before`` counted
        attempts having been made before it."""
        if result is AttemptResult.CONNECTED:
            return NextStep("done", attempts_before + 1, None)
        if result in _GIVEN_UP_AT_ONCE:
            return NextStep("failed", attempts_before, None)
        if result not in _COUNTED:  # the agent's side: straight back in line, nothing counted
            return NextStep("pending", attempts_before, now)
        made = attempts_before + 1
        if made >= self.attempts:
            return NextStep("failed", made, None)
        return NextStep("pending", made, now + self.spacing_s)
