"""One clock for the whole service, and the centre's local day.

Every timestamp the service writes (calls rows, node events, ACD records, surveys, voicemails, the event
log) and every "now" it reads (business hours, the wallboard, wait figures) comes from one
:class:`ServiceClock`. Normally it is wall time; a lab or test that must land inside business hours sets
``clock_start`` and time runs on from there at the normal pace, so timeouts and wait figures stay real.

The centre has a time zone (setting ``timezone``; by default the zone of the business-hours definition):
"today" on the wallboard and in reports is the centre's local day, and times typed by an operator
(``--since``, ``ivr simulate --at``) are read in that zone unless they carry an offset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr_engine.config import ConfigError

__all__ = [
    "CentreTime",
    "ClockError",
    "ServiceClock",
    "clock_from_setting",
    "default_zone_name",
    "parse_local",
    "zone_named",
]

WallTime = Callable[[], datetime]


class ClockError(ConfigError):
    """A clock or time-zone setting is malformed; the message names it."""


def _wall() -> datetime:
    return datetime.now(UTC)


class ServiceClock:
    """``now()`` is wall time plus a fixed offset (zero unless a start time is given).

    ``wall`` is where real time comes from (injected by tests that shift "today").
    """

    def __init__(
        self, start: datetime | None = None, *, anchor: datetime | None = None, wall: WallTime = _wall
    ) -> None:
        """``start``: what the clock reads at wall time ``anchor`` (default: now, at construction)."""
        self._wall = wall
        self._offset = start - (anchor or wall()) if start is not None else timedelta(0)

    def now(self) -> datetime:
        """The service's current time, timezone-aware (UTC)."""
        return self._wall() + self._offset

    def epoch(self) -> float:
        """``now()`` as epoch seconds: the ACD runtime's and the control API's time unit."""
        return self.now().timestamp()


def clock_from_setting(clock_start: str, clock_anchor: str = "", *, wall: WallTime = _wall) -> ServiceClock:
    """The clock for ``Settings.clock_start``/``clock_anchor`` (empty start: wall time).

    ``clock_anchor`` is the wall time at which the clock read ``clock_start``; without it the clock
    starts at ``clock_start`` now. Every process given the same pair (a restarted ``ivr serve``, the
    nodes of a lab, the CLI) then reads the same time. Raises ClockError if either is malformed.
    """
    if not clock_start:
        return ServiceClock(wall=wall)
    start = _aware("clock_start", clock_start)
    anchor = _aware("clock_anchor", clock_anchor) if clock_anchor else None
    return ServiceClock(start, anchor=anchor, wall=wall)


def _aware(name: str, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ClockError(f"{name} {text!r} is not an ISO date-time") from None
    if value.tzinfo is None:
        raise ClockError(f"{name} {text!r} needs a time zone, e.g. 2026-12-02T10:00-05:00")
    return value


def zone_named(name: str) -> tzinfo:
    """The IANA zone ``name`` (``UTC`` for ``UTC``); raises ClockError naming the setting if unknown."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ClockError(f"timezone {name!r} is not a known IANA time zone (e.g. America/New_York)") from None


def parse_local(text: str, zone: tzinfo) -> datetime:
    """An ISO date or date-time typed by an operator: in ``zone`` unless it carries an offset."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClockError(f"{text!r} is not a date-time such as '2026-12-25 10:00'") from None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


@dataclass(frozen=True)
class CentreTime:
    """The centre's time zone, and its local day."""

    zone: tzinfo

    @classmethod
    def named(cls, name: str) -> CentreTime:
        return cls(zone_named(name))

    @property
    def name(self) -> str:
        return str(self.zone)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone)

    def day_start(self, at: datetime) -> datetime:
        """Midnight (local) of the centre's day that holds ``at``, as an aware local time.

        Built from the local date, so a day that starts with a DST change still starts at its midnight.
        """
        day = self.local(at).date()
        return datetime(day.year, day.month, day.day, tzinfo=self.zone)

    def day_window(self, at: datetime) -> tuple[datetime, datetime]:
        """``[start, end)`` of the centre's local day holding ``at``, in UTC."""
        start = self.day_start(at)
        following = (start + timedelta(days=1, hours=3)).date()
        end = datetime(following.year, following.month, following.day, tzinfo=self.zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def default_zone_name(zones: Iterable[str]) -> str:
    """The centre's zone when none is set: the business-hours zone (the first, sorted), else UTC."""
    found = sorted(set(zones))
    return found[0] if found else "UTC"
