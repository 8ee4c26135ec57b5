"""Agent login, pause and occupancy from state changes: the interval arithmetic, worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr_engine.reports.acd_stats import VolumeBucket, hour_profile
from ivr_engine.reports.agent_time import NO_REASON, StateChange, agent_times

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def change(
    minutes: float, from_state: str, to_state: str, reason: str = "", agent: str = "1001"
) -> StateChange:
    return StateChange(agent, from_state, to_state, reason, at(minutes))


# 1001 logs in at 0: ready 10 min, a call (ring 1, talk 15, wrap 4), lunch 30, ready 10, a 5-minute pause
# without a reason, ready 25, logs out at 100.
SHIFT = [
    change(0, "logged_out", "ready"),
    change(10, "ready", "ringing"),
    change(11, "ringing", "on_call"),
    change(26, "on_call", "wrap_up"),
    change(30, "wrap_up", "paused", "lunch"),
    change(60, "paused", "ready"),
    change(70, "ready", "paused", ""),
    change(75, "paused", "ready"),
    change(100, "ready", "logged_out"),
]


def test_whole_shift_inside_the_window() -> None:
    (t,) = agent_times(SHIFT, at(-60), at(180), now=at(600))
    assert t.login_s == 100 * 60
    assert dict(t.seconds_by_state) == {
        "logged_out": 140 * 60,  # 60 before, 80 after
        "ready": (10 + 10 + 25) * 60,
        "ringing": 60,
        "on_call": 15 * 60,
        "wrap_up": 4 * 60,
        "paused": 35 * 60,
    }
    assert t.pause_by_reason == ((NO_REASON, 300.0), ("lunch", 1800.0))
    assert t.pause_s == 35 * 60
    assert t.occupancy == (15 + 4) / (45 + 1 + 15 + 4)


def test_intervals_are_clipped_to_the_window_using_the_state_before_it() -> None:
    (t,) = agent_times(SHIFT, at(20), at(65), now=at(600))  # on a call at 20 (since 11), until 65
    assert t.login_s == 45 * 60
    assert t.state_s("on_call") == 6 * 60
    assert t.pause_by_reason == (("lunch", 1800.0),)  # the reason comes from the change before 30
    assert t.state_s("ready") == 5 * 60


def test_a_pause_straddling_the_start_keeps_its_reason() -> None:
    (t,) = agent_times(SHIFT, at(40), at(50), now=at(600))
    assert (t.login_s, t.pause_by_reason, t.occupancy) == (600.0, (("lunch", 600.0),), None)


def test_still_logged_in_counts_until_now_when_now_is_before_the_window_end() -> None:
    open_shift = SHIFT[:-1]  # never logs out
    (t,) = agent_times(open_shift, at(0), at(600), now=at(90))
    assert t.login_s == 90 * 60
    (later,) = agent_times(open_shift, at(0), at(120), now=at(600))
    assert later.login_s == 120 * 60  # the window's end comes first
    (unbounded,) = agent_times(open_shift, at(0), None, now=at(110))
    assert unbounded.login_s == 110 * 60


def test_without_since_time_starts_at_the_first_change_and_its_from_state() -> None:
    mid_shift = [change(5, "ready", "paused", "break"), change(15, "paused", "ready")]
    (t,) = agent_times(mid_shift, None, at(20), now=at(600))
    assert (t.login_s, t.pause_by_reason) == (900.0, (("break", 600.0),))
    (windowed,) = agent_times(mid_shift, at(0), at(20), now=at(600))
    assert windowed.state_s("ready") == 10 * 60  # ready before 5 (the first change's from_state)


def test_changes_after_the_end_are_ignored_and_logged_out_agents_left_out() -> None:
    changes = [
        *SHIFT,
        change(-30, "ready", "logged_out", agent="1002"),
        change(500, "logged_out", "ready", agent="1002"),
    ]
    assert [t.agent_id for t in agent_times(changes, at(0), at(120), now=at(600))] == ["1001"]
    assert agent_times(SHIFT, at(200), at(300), now=at(600)) == ()  # logged out at 100
    assert agent_times(SHIFT, at(0), at(120), now=at(-10)) == ()  # the window has not begun by now


def test_agents_are_separate_and_sorted() -> None:
    changes = [change(0, "logged_out", "ready", agent="1002"), *SHIFT]
    assert [(t.agent_id, t.login_s) for t in agent_times(changes, at(0), at(120), now=at(600))] == [
        ("1001", 6000.0),
        ("1002", 7200.0),
    ]


def test_hour_profile_sums_each_local_hour_over_the_days() -> None:
    hourly = (
        VolumeBucket("2026-03-02 09:00", 3, 2, 1, 1),
        VolumeBucket("2026-03-03 09:00", 4, 3, 3, 0),
        VolumeBucket("2026-03-03 23:00", 1, 1, 0, 1),
    )
    profile = hour_profile(hourly, limited=False)
    assert [b.period for b in profile] == [f"{h:02d}" for h in range(24)]
    assert profile[9] == VolumeBucket("09", 7, 5, 4, 1)
    assert profile[23] == VolumeBucket("23", 1, 1, 0, 1)
    assert profile[0] == VolumeBucket("00", 0, 0, 0, 0)
    assert hour_profile(hourly, limited=True)[9].calls is None
