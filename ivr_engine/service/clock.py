"""The service's clock: wall time, optionally shifted to start at a chosen moment.

A lab or test that must land inside business hours (``hours`` nodes) sets ``clock_start``; time then
runs on from there at the normal pace, so timeouts and wait figures stay real.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr_engine.config import ConfigError

__all__ = ["ShiftedClock", "clock_from_setting"]


class ShiftedClock:
    """``now()`` is wall time plus a fixed offset (zero unless a start time is given)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = start - datetime.now(UTC) if start is not None else timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


def clock_from_setting(clock_start: str) -> ShiftedClock:
    """The clock for ``Settings.clock_start`` (empty: wall time); raises ConfigError if malformed."""
    if not clock_start:
        return ShiftedClock()
    try:
        start = datetime.fromisoformat(clock_start)
    except ValueError:
        raise ConfigError(f"clock_start {clock_start!r} is not an ISO date-time") from None
    if start.tzinfo is None:
        raise ConfigError(f"clock_start {clock_start!r} needs a time zone, e.g. 2026-12-02T10:00-05:00")
    return ShiftedClock(start)
