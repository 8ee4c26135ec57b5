"""Agent time, calls per agent per day and the hour profile from the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from acd.records import AcdRecorder
from cli import main
from ivr_engine.reports import AcdFilter, Bucket, TimeWindow, query_acd_stats
from ivr_engine.reports.source import read
from ivr_engine.storage import Database

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # as in conftest.py

# (agent, minutes after T0, from, to, reason)
CHANGES = [
    ("1001", -120, "logged_out", "ready", ""),
    ("1001", -90, "ready", "paused", "lunch"),  # the state when a window opening at T0 - 60 min starts
    ("1001", -30, "paused", "ready", ""),
    ("1001", 0, "ready", "ringing", ""),
    ("1001", 1, "ringing", "on_call", ""),
    ("1001", 11, "on_call", "wrap_up", ""),
    ("1001", 15, "wrap_up", "paused", "coaching"),
    ("1001", 25, "paused", "ready", ""),
    ("1002", 30, "logged_out", "ready", ""),  # still logged in at the end
]


async def _record_changes(database: Database) -> None:
    recorder = AcdRecorder(database)
    for agent, minutes, from_state, to_state, reason in CHANGES:
        assert await recorder.record_state_change(
            agent_id=agent,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            at=T0 + timedelta(minutes=minutes),
        )


async def test_agent_time_is_clipped_to_the_window_and_to_now(acd_db: Database) -> None:
    await _record_changes(acd_db)
    window = TimeWindow(T0 - timedelta(minutes=60), T0 + timedelta(minutes=120))
    filters = AcdFilter(window=window, now=T0 + timedelta(minutes=60))
    stats = read(acd_db, lambda conn: query_acd_stats(conn, filters))
    a1001, a1002 = stats.agent_times
    assert a1001.agent_id == "1001"
    assert a1001.login_s == 120 * 60  # T0 - 60 to now (T0 + 60), logged in throughout
    assert a1001.pause_by_reason == (("coaching", 600.0), ("lunch", 1800.0))
    assert (a1001.state_s("on_call"), a1001.state_s("wrap_up"), a1001.state_s("ringing")) == (600, 240, 60)
    assert a1001.state_s("ready") == (30 + 35) * 60
    assert a1001.occupancy == pytest.approx((600 + 240) / ((30 + 35) * 60 + 60 + 600 + 240))
    assert (a1002.agent_id, a1002.login_s) == ("1002", 30 * 60)  # from T0 + 30 until now
    only = AcdFilter(window=window, now=T0 + timedelta(minutes=60), agent="1002")
    agents = read(acd_db, lambda conn: query_acd_stats(conn, only)).agent_times
    assert [t.agent_id for t in agents] == ["1002"]


def test_calls_answered_per_agent_per_local_day(acd_db: Database) -> None:
    stats = read(acd_db, lambda conn: query_acd_stats(conn, AcdFilter()))
    assert [(d.agent_id, d.day, d.answered) for d in stats.agent_days] == [
        ("1001", "2026-03-02", 3),
        ("1002", "2026-03-02", 1),
    ]
    kiritimati = AcdFilter(zone="Pacific/Kiritimati")  # UTC+14: the calls were answered on 3 March there
    assert {d.day for d in read(acd_db, lambda conn: query_acd_stats(conn, kiritimati)).agent_days} == {
        "2026-03-03"
    }


def test_hour_profile_is_there_whatever_the_volume_bucket(acd_db: Database) -> None:
    stats = read(acd_db, lambda conn: query_acd_stats(conn, AcdFilter(by=Bucket.DAY, zone="Asia/Shanghai")))
    assert len(stats.profile) == 24
    by_hour = {b.period: (b.calls, b.offered, b.answered, b.abandoned) for b in stats.profile}
    assert by_hour["18"] == (5, 4, 3, 1)  # 10:00 UTC is 18:00 in Shanghai
    assert by_hour["19"] == (2, 2, 1, 0)
    assert by_hour["10"] == (0, 0, 0, 0)


@pytest.fixture
def acd_cli(acd_db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("IVR_DATABASE_URL", acd_db.url.render_as_string(hide_password=False))
    monkeypatch.setenv("IVR_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("IVR_TIMEZONE", "UTC")
    monkeypatch.setenv("IVR_CLOCK_START", "2026-03-02T10:50:00+00:00")  # the service clock's now (runs on)
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def test_cli_stats_acd_new_tables_and_xlsx_charts(acd_cli: Path, acd_db: Database) -> None:
    await _record_changes(acd_db)
    window = ["--since", "2026-03-02 09:00", "--until", "2026-03-02 11:00"]
    result = CliRunner().invoke(main, ["stats", "acd", "--json", *window])
    assert result.exit_code == 0, result.output
    tables = {t["name"]: t for t in json.loads(result.output)["tables"]}
    assert list(tables) == [
        "Queues", "Agents", "Outcomes", "Volume", "Hour profile", "Agent time", "Pauses", "Agent days",
    ]
    agent_time = {row["agent"]: row for row in tables["Agent time"]["rows"]}
    # Until the service clock's now (10:50 and the few seconds the test takes), before --until (11:00).
    assert agent_time["1001"]["login_s"] == pytest.approx(110 * 60, abs=5)
    assert agent_time["1002"]["login_s"] == pytest.approx(20 * 60, abs=5)
    assert [(r["agent"], r["reason"], r["paused_s"]) for r in tables["Pauses"]["rows"]] == [
        ("1001", "coaching", 600.0),
        ("1001", "lunch", 1800.0),
    ]
    out = acd_cli / "acd.xlsx"
    result = CliRunner().invoke(main, ["stats", "acd", "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    assert workbook["Queues"]["A4"].value == "(all)"  # the total stays in the data sheet
    queue_chart = workbook["Queues"]._charts[0]
    area = queue_chart.series[0].cat.strRef.f.partition("!")[2].replace("$", "")
    assert [c.value for row in workbook["Chart data"][area] for c in row] == ["billing", "general"]
    assert len(workbook["Hour profile"]._charts) == 1
