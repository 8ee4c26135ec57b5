"""``hours``: open or closed by a weekly timetable and holidays, in the node's time zone; whether it is
open at a given instant, and when it next opens, are pure functions of the node."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr_engine.flow.fields import Fields
from ivr_engine.flow.model import Flow, FlowDefaults, NodeBase
from ivr_engine.flow.nodes.base import NodeSpec, Where, schema_name
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import Step
from ivr_engine.flow.yamlsource import Located

__all__ = ["SPEC", "WEEKDAYS", "HoursNode", "OpenRange", "is_open", "local_time", "next_open"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\Z")


@dataclass(frozen=True)
class OpenRange:
    start: time
    end: time


@dataclass(frozen=True, kw_only=True)
class HoursNode(NodeBase):
    type_name = "hours"
    timezone: str
    weekly: Mapping[int, tuple[OpenRange, ...]]  # weekday (0 = Monday) -> open ranges
    holidays: frozenset[date] = frozenset()
    open: str
    closed: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "open", self.open
        yield "closed", self.closed


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


def _ranges(f: Fields, item: Located, day: str) -> tuple[OpenRange, ...]:
    raw = item.value if isinstance(item.value, list) else [item]
    ranges: list[OpenRange] = []
    for entry in raw:
        if entry.value == "closed":
            continue
        match = _RANGE.match(str(entry.value)) if isinstance(entry.value, str) else None
        if match is None:
            f.error(entry.line, f"hours for {day} must look like 09:00-17:30 (or 'closed')")
            continue
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start, end = time(h1, m1), time(h2, m2) if (h2, m2) != (24, 0) else time.max
        except ValueError:
            f.error(entry.line, f"hours for {day}: {entry.value!r} is not a time of day")
            continue
        if end <= start:
            f.error(entry.line, f"hours for {day}: {entry.value!r} ends before it starts")
            continue
        ranges.append(OpenRange(start, end))
    return tuple(ranges)


def read(f: Fields, where: Where, defaults: FlowDefaults) -> HoursNode:
    zone = f.required("timezone")
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            f.error(
                f.line("timezone"),
                f"unknown time zone {zone[:80]!r} (use an IANA name such as Europe/London)",
            )
    weekly: dict[int, tuple[OpenRange, ...]] = {}
    for day, item in f.mapping("weekly", required=True).items():
        if day not in WEEKDAYS:
            f.error(item.line, f"unknown weekday {day[:20]!r} (use {', '.join(WEEKDAYS)})")
            continue
        weekly[WEEKDAYS.index(day)] = _ranges(f, item, day)
    holidays: set[date] = set()
    found = f.raw("holidays")
    for entry in found.value if found is not None and isinstance(found.value, list) else []:
        value = entry.value
        try:
            holidays.add(value if isinstance(value, date) else date.fromisoformat(str(value)[:40]))
        except ValueError:
            f.error(entry.line, f"holiday {str(value)[:40]!r} is not a date (YYYY-MM-DD)")
    if found is not None and not isinstance(found.value, list):
        f.error(found.line, "'holidays' must be a list of dates (YYYY-MM-DD)")
    return HoursNode(
        id=where.id,
        source=where.source,
        timezone=zone or "UTC",
        weekly=weekly,
        holidays=frozenset(holidays),
        open=f.target("open"),
        closed=f.target("closed"),
    )


async def run(node: HoursNode, call: CallState, flow: Flow) -> Step:
    now = call.services.clock.now()
    shown = f"{local_time(node, now):%Y-%m-%d %H:%M} {node.timezone}"
    if is_open(node, now):
        return Step("open", node.open, shown)
    return Step("closed", node.closed, shown)


_RANGES = {
    "anyOf": [
        {"type": "string", "pattern": r"^(closed|\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2})$"},
        {"type": "array", "items": {"type": "string"}},
    ]
}

SPEC = NodeSpec(
    cls=HoursNode,
    fields={
        "timezone": {"type": "string", "description": "IANA time zone, e.g. America/New_York"},
        "weekly": {
            "type": "object",
            "propertyNames": {"enum": list(WEEKDAYS)},
            "additionalProperties": _RANGES,
            "description": "weekday -> 09:00-17:30, a list of ranges, or closed",
        },
        "holidays": {"type": "array", "items": {"type": "string", "format": "date"}, "description": "closed"},
        "open": schema_name("the node when open"),
        "closed": schema_name("the node when closed"),
    },
    required=("timezone", "weekly", "open", "closed"),
    read=read,
    run=run,
    description="Open or closed by a weekly timetable.",
)
