"""One clock, the centre's zone and its local day; the lab's "next open moment" (all with injected time)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr_engine.centre import centre_time
from ivr_engine.clock import CentreTime, ClockError, ServiceClock, clock_from_setting, parse_local
from ivr_engine.config import ConfigError, Settings
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.model import Source
from ivr_engine.flow.nodes.hours import HoursNode, OpenRange, is_open, next_open
from ivr_engine.web.wallboard import today_window

NEW_YORK = ZoneInfo("America/New_York")
PROJECT_FLOWS = Path(__file__).resolve().parents[2] / "flows"


class FakeWall:
    """Wall time that only moves when told to."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_a_started_clock_runs_on_from_its_start_at_the_wall_clocks_pace() -> None:
    wall = FakeWall(datetime(2026, 12, 3, 13, 0, tzinfo=UTC))
    clock = clock_from_setting("2026-12-07T09:00:00-05:00", wall=wall)
    assert clock.now() == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    wall.at += timedelta(seconds=90)
    assert clock.now() == datetime(2026, 12, 7, 14, 1, 30, tzinfo=UTC)
    assert clock.epoch() == clock.now().timestamp()


def test_without_a_start_the_clock_is_the_wall_clock() -> None:
    wall = FakeWall(datetime(2026, 12, 5, 8, 0, tzinfo=UTC))
    assert ServiceClock(wall=wall).now() == wall.at


@pytest.mark.parametrize(
    ("text", "complaint"),
    [("tomorrow", "is not an ISO date-time"), ("2026-12-07T09:00", "needs a time zone")],
)
def test_a_malformed_clock_start_is_a_config_error_naming_it(text: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        clock_from_setting(text)


def test_an_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(ClockError, match="'Mars/Olympus' is not a known IANA time zone"):
        CentreTime.named("Mars/Olympus")


def test_the_centres_day_is_its_local_midnight_to_midnight() -> None:
    centre = CentreTime.named("America/New_York")
    # 03:00 on Saturday in New York is 08:00 UTC: the day began at 05:00 UTC, not 00:00 UTC.
    since, until = centre.day_window(datetime(2026, 12, 5, 8, 0, tzinfo=UTC))
    assert (since, until) == (
        datetime(2026, 12, 5, 5, 0, tzinfo=UTC),
        datetime(2026, 12, 6, 5, 0, tzinfo=UTC),
    )
    # 22:00 in New York on 4 December is already 5 December in UTC: still the 4th for the centre.
    since, _ = centre.day_window(datetime(2026, 12, 5, 3, 0, tzinfo=UTC))
    assert since == datetime(2026, 12, 4, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 8), 23), (date(2026, 11, 1), 25), (date(2026, 7, 1), 24)]
)
def test_days_with_a_clock_change_are_23_or_25_hours_long(day: date, hours: int) -> None:
    centre = CentreTime(NEW_YORK)
    noon = datetime.combine(day, time(12), tzinfo=NEW_YORK)
    since, until = centre.day_window(noon)
    assert until - since == timedelta(hours=hours)
    assert since.astimezone(NEW_YORK).time() == time(0)
    assert until.astimezone(NEW_YORK).time() == time(0)


def test_the_wallboards_today_is_the_centres_local_day() -> None:
    window = today_window(datetime(2026, 12, 5, 3, 0, tzinfo=UTC), CentreTime(NEW_YORK))
    evening_before = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)  # 18:00 in New York, the same local day
    just_before_local_midnight = datetime(2026, 12, 4, 4, 59, tzinfo=UTC)  # 23:59 on 3 December in NY
    assert window.since is not None
    assert window.until is not None
    assert window.since <= evening_before < window.until
    assert not window.since <= just_before_local_midnight


def test_typed_times_are_read_in_the_centres_zone_unless_they_carry_an_offset() -> None:
    assert parse_local("2026-12-25 10:00", NEW_YORK) == datetime(2026, 12, 25, 15, 0, tzinfo=UTC)
    assert parse_local("2026-12-25T10:00+01:00", NEW_YORK) == datetime(2026, 12, 25, 9, 0, tzinfo=UTC)
    with pytest.raises(ClockError, match="is not a date-time"):
        parse_local("Christmas", NEW_YORK)


def test_the_centres_zone_defaults_to_the_business_hours_zone_and_can_be_set(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, flows_dir=PROJECT_FLOWS)
    assert centre_time(settings).name == "America/New_York"
    assert centre_time(replace(settings, timezone="Asia/Shanghai")).name == "Asia/Shanghai"
    assert centre_time(replace(settings, flows_dir=tmp_path)).name == "UTC"  # no hours anywhere


OFFICE = HoursNode(
    id="office",
    source=Source("office.yaml", 1),
    timezone="America/New_York",
    weekly={d: (OpenRange(time(8), time(20)),) for d in range(5)},
    holidays=frozenset({date(2026, 12, 25)}),
    open="yes",
    closed="no",
)


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        # Saturday 03:00 in New York -> Monday 08:00
        (datetime(2026, 12, 5, 3, 0, tzinfo=NEW_YORK), datetime(2026, 12, 7, 8, 0, tzinfo=NEW_YORK)),
        # Thursday 03:00 -> the same day's opening
        (datetime(2026, 12, 3, 3, 0, tzinfo=NEW_YORK), datetime(2026, 12, 3, 8, 0, tzinfo=NEW_YORK)),
        # Thursday 10:15 -> now: open for hours yet
        (datetime(2026, 12, 3, 10, 15, tzinfo=NEW_YORK), datetime(2026, 12, 3, 10, 15, tzinfo=NEW_YORK)),
        # Thursday 19:00: closing in one hour -> Friday 08:00
        (datetime(2026, 12, 3, 19, 0, tzinfo=NEW_YORK), datetime(2026, 12, 4, 8, 0, tzinfo=NEW_YORK)),
        # Christmas Eve 23:00 -> not the holiday, but Saturday 26th is the weekend: Monday 28th
        (datetime(2026, 12, 24, 23, 0, tzinfo=NEW_YORK), datetime(2026, 12, 28, 8, 0, tzinfo=NEW_YORK)),
    ],
)
def test_next_open_lands_inside_business_hours_with_time_to_spare(wall: datetime, expected: datetime) -> None:
    found = next_open(OFFICE, wall)
    assert found == expected
    assert is_open(OFFICE, found)
    assert is_open(OFFICE, found + timedelta(hours=1, minutes=59))


def test_next_open_gives_up_clearly_on_hours_that_never_open_long_enough() -> None:
    short = replace(OFFICE, weekly={0: (OpenRange(time(9), time(10)),)})
    with pytest.raises(ValueError, match="never open"):
        next_open(short, datetime(2026, 12, 3, tzinfo=UTC))


def test_the_shipped_flows_business_hours_are_what_the_labs_clock_aims_at() -> None:
    zones = FlowLibrary.from_paths([PROJECT_FLOWS]).hours_zones()
    assert zones == {"America/New_York"}


def test_processes_given_the_same_start_and_anchor_read_one_timeline() -> None:
    wall = FakeWall(datetime(2026, 12, 3, 13, 0, tzinfo=UTC))
    first = clock_from_setting("2026-12-07T09:00:00-05:00", "2026-12-03T12:00:00+00:00", wall=wall)
    wall.at += timedelta(minutes=5)  # a service restarted five minutes later
    second = clock_from_setting("2026-12-07T09:00:00-05:00", "2026-12-03T12:00:00+00:00", wall=wall)
    assert first.now() == second.now() == datetime(2026, 12, 7, 15, 5, tzinfo=UTC)
    unanchored = clock_from_setting("2026-12-07T09:00:00-05:00", wall=wall)
    assert unanchored.now() == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # starts at clock_start now
    with pytest.raises(ConfigError, match="clock_anchor 'soon' is not an ISO date-time"):
        clock_from_setting("2026-12-07T09:00:00-05:00", "soon")
