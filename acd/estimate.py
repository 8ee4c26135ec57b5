"""Expected wait for a queued caller, from live data, and the record of how good the guess was."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["WaitAccuracy", "expected_wait"]


def expected_wait(
    position: int,
    staffed_agents: int,
    handle_times: Sequence[float],
    default_handle: float,
    ready_agents: int = 0,
) -> float | None:
    """Seconds a caller at ``position`` (1-based) is likely to wait.

    Every staffed agent (logged in, not paused, holding the queue's skills) frees up about once per
    average handle time, so the callers not covered by the ``ready_agents`` are served after
    ``(position - ready) * AHT / agents``. The
    average is over ``handle_times`` (recent calls of the queue), else ``default_handle``. ``None`` when
    nobody is staffed: no honest estimate exists.
    """
    if staffed_agents <= 0:
        return None
    aht = sum(handle_times) / len(handle_times) if handle_times else default_handle
    return max(0, position - ready_agents) * aht / staffed_agents


@dataclass(frozen=True)
class WaitAccuracy:
    """Predicted (at enqueue) against actual wait of an answered call."""

    call_id: str
    queue: str
    agent_id: str
    predicted: float | None
    actual: float

    @property
    def error(self) -> float | None:
        """Actual minus predicted: positive when the caller waited longer than told."""
        return None if self.predicted is None else self.actual - self.predicted
