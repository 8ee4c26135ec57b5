"""Business hours: is a ``hours`` node open at a given instant (pure)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ivr_engine.flow.model import HoursNode

__all__ = ["is_open", "local_time"]


def local_time(node: HoursNode, at: datetime) -> datetime:
    """``at`` (timezone-aware) in the node's time zone."""
    return at.astimezone(ZoneInfo(node.timezone))


def is_open(node: HoursNode, at: datetime) -> bool:
    """Open when the local date is no holiday and the local time falls in one of the day's ranges."""
    local = local_time(node, at)
    if local.date() in node.holidays:
        return False
    now = local.time().replace(tzinfo=None)
    return any(r.start <= now < r.end for r in node.weekly.get(local.weekday(), ()))
