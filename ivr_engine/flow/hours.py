"""Business hours: is a ``hours`` node open at a given instant (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from ivr_engine.flow.nodes.hours import HoursNode

__all__ = ["is_open", "local_time", "next_open"]


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


def next_open(node: HoursNode, after: datetime, *, settle: timedelta = timedelta(hours=2)) -> datetime:
    """A moment at or after ``after`` when ``node`` is open and stays open for ``settle`` at least.

    Used by labs and tests to land inside business hours whatever the real date: the first local day
    (from ``after``'s) with an open range at least ``settle`` long, at that range's start (or at
    ``after`` itself when it already sits early enough in such a range). Raises ValueError when no day in
    the coming year is open long enough.
    """
    local = local_time(node, after)
    zone = ZoneInfo(node.timezone)
    for offset in range(366):
        day = local.date() + timedelta(days=offset)
        if day in node.holidays:
            continue
        for opening in node.weekly.get(day.weekday(), ()):
            start = datetime.combine(day, opening.start, tzinfo=zone)
            end = datetime.combine(day, opening.end, tzinfo=zone)
            if end - start < settle:
                continue
            candidate = max(start, local)
            if end - candidate >= settle:
                return candidate
    raise ValueError(f"hours node {node.id!r} is never open for {settle} in the coming year")
