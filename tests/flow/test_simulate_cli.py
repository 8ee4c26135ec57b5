"""``ivr simulate`` against a real (SQLite) database made by ``ivr db init`` and ``ivr db seed``: it reads
the customers there and stores nothing in it; ``--record-to`` stores the walk in a separate database."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from ivr_engine.reports import TimeWindow
from ivr_engine.reports.funnel import query_funnel
from ivr_engine.reports.source import read
from ivr_engine.storage import Database
from tests.masking import shows_value
from tests.seeded_cli import invoke, seeded_cli

ROOT = Path(__file__).parents[2]


@pytest.fixture
def ivr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(ROOT)
    return seeded_cli(tmp_path, monkeypatch)


def test_simulate_balance_speaks_the_balance(ivr: CliRunner, tmp_path: Path) -> None:
    result = invoke(
        ivr, tmp_path, "simulate", "flows/balance.yaml", "--caller", "15550001001", "--digits", "100200#4321#"
    )
    assert result.exit_code == 0, result.output
    assert "said: Your available balance is" in result.output
    assert "said: [money] 1234.56" in result.output
    assert "4321" not in result.output.replace("--digits", "")
    assert "pressed: ****" in result.output


WORKING_HOURS = "2026-12-02 10:00-05:00"  # a Wednesday, inside flows/agent.yaml's business hours
LIVE_TABLES = (
    "calls", "node_events", "survey_responses", "voicemails", "customers", "customer_phones",
    "queue_calls", "agents",
)  # fmt: skip


def _live_rows(tmp_path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(tmp_path / "state" / "ivr.db") as db:
        return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in LIVE_TABLES}


def _what_supervisors_see(ivr: CliRunner, tmp_path: Path) -> dict[str, str]:
    """`ivr calls list`, `ivr stats nodes/acd` over every date, and the main flow's funnel."""
    wide = ("--since", "2000-01-01", "--until", "2100-01-01", "--format", "json")
    seen = {
        "calls": invoke(ivr, tmp_path, "calls", "list", "--json"),
        "nodes": invoke(ivr, tmp_path, "stats", "nodes", *wide),
        "acd": invoke(ivr, tmp_path, "stats", "acd", *wide),
    }
    for name, result in seen.items():
        assert result.exit_code == 0, f"{name}: {result.output}"
    database = Database(f"sqlite:///{tmp_path / 'state' / 'ivr.db'}")
    try:
        funnel = read(database, lambda conn: query_funnel(conn, "main", TimeWindow()))
    finally:
        database.dispose()
    return {**{name: result.output for name, result in seen.items()}, "funnel": repr(funnel)}


def _simulate_everything(ivr: CliRunner, tmp_path: Path, *extra: str) -> dict[str, dict[str, Any]]:
    """An agent call with a survey, a voicemail, a balance check far in the future: each as JSON."""
    runs = {
        "survey": ("main", "--caller", "15550001001", "--digits", "0545", "--transfer", "completed",
                   "--at", WORKING_HOURS),
        "voicemail": ("voicemail", "--caller", "15559990000", "--digits", "#"),
        "balance": ("balance", "--caller", "15550001001", "--digits", "100200#4321#",
                    "--at", "2031-01-01 09:00Z"),
    }  # fmt: skip
    done: dict[str, dict[str, Any]] = {}
    for name, args in runs.items():
        result = invoke(ivr, tmp_path, "simulate", *args, *extra, "--json")
        assert result.exit_code == 0, f"{name}: {result.output}"
        done[name] = json.loads(result.output)
    return done


def test_simulate_leaves_no_trace_in_the_live_data(ivr: CliRunner, tmp_path: Path) -> None:
    rows_before, seen_before = _live_rows(tmp_path), _what_supervisors_see(ivr, tmp_path)
    runs = _simulate_everything(ivr, tmp_path)
    survey = {s["node"]: s for s in runs["survey"]["steps"]}
    assert survey["questions"]["input"] == "agent=5,resolved=4,recommend=5"  # the survey was answered
    record = next(s for s in runs["voicemail"]["steps"] if s["node"] == "record_message")
    assert record["outcome"] == "recorded"  # and a voicemail left
    assert {"kind": "said", "text": "[money] 1234.56"} in [  # lookups still read the live customers
        h for s in runs["balance"]["steps"] for h in s["heard"]
    ]
    assert all(run["recorded_to"] is None for run in runs.values())
    assert _live_rows(tmp_path) == rows_before
    assert _what_supervisors_see(ivr, tmp_path) == seen_before
    shown = invoke(ivr, tmp_path, "calls", "show", runs["balance"]["call_id"])
    assert shown.exit_code != 0
    assert "Traceback" not in shown.output


def test_simulate_record_to_stores_the_calls_in_a_separate_database(
    ivr: CliRunner, tmp_path: Path
) -> None:
    rows_before = _live_rows(tmp_path)
    record = tmp_path / "records" / "sim.db"
    runs = _simulate_everything(ivr, tmp_path, "--record-to", str(record))
    assert _live_rows(tmp_path) == rows_before
    assert {run["recorded_to"] for run in runs.values()} == {f"sqlite:///{record}"}
    with sqlite3.connect(record) as db:
        calls = {row[0]: row[1] for row in db.execute("SELECT id, disposition FROM calls")}
        answers = db.execute("SELECT call_id, agent_id, question, score FROM survey_responses").fetchall()
        voicemails = db.execute("SELECT call_id, mailbox FROM voicemails").fetchall()
        events = db.execute("SELECT COUNT(*) FROM node_events").fetchone()[0]
    assert calls == {run["call_id"]: f"simulated:{run['result']['reason']}" for run in runs.values()}
    survey_call = runs["survey"]["call_id"]
    assert sorted(answers) == [
        (survey_call, "sim-agent", "agent", 5),
        (survey_call, "sim-agent", "recommend", 5),
        (survey_call, "sim-agent", "resolved", 4),
    ]
    assert voicemails == [(runs["voicemail"]["call_id"], "general")]
    assert events == sum(len(run["steps"]) for run in runs.values())
    shown = ivr.invoke(
        main,
        ["--state-dir", str(tmp_path / "state"), "calls", "show", runs["balance"]["call_id"], "--json"],
        env={"IVR_DATABASE_URL": f"sqlite:///{record}"},
    )
    assert shown.exit_code == 0, shown.output
    assert "check_account" in shown.output
    assert not shows_value(shown.output, "4321")


def test_simulate_refuses_to_record_into_the_live_database(ivr: CliRunner, tmp_path: Path) -> None:
    rows_before = _live_rows(tmp_path)
    live = tmp_path / "state" / "ivr.db"
    (tmp_path / "alias.db").symlink_to(live)
    for target in (str(live), f"sqlite:///{tmp_path}/state/../state/ivr.db", str(tmp_path / "alias.db")):
        result = invoke(ivr, tmp_path, "simulate", "balance", "--digits", "1#", "--record-to", target)
        assert result.exit_code == 2, result.output
        assert "is the live database" in result.output
        assert "Traceback" not in result.output
    folder = invoke(ivr, tmp_path, "simulate", "main", "--record-to", str(tmp_path))
    assert folder.exit_code == 2
    assert "is a folder" in folder.output
    assert _live_rows(tmp_path) == rows_before


def test_simulate_wrong_pin_three_times_locks_out(ivr: CliRunner, tmp_path: Path) -> None:
    result = invoke(ivr, tmp_path, "simulate", "balance", "--digits", "100200#1111#" * 3 + "9")
    assert result.exit_code == 0, result.output
    assert "For your security" in result.output
    assert result.output.count("-> not_found") == 3


def test_simulate_hours_with_at_and_timeout_at(ivr: CliRunner, tmp_path: Path) -> None:
    result = invoke(
        ivr,
        tmp_path,
        "simulate",
        "main",
        "--caller",
        "15550001001",
        "--digits",
        "0",
        "--at",
        "2026-12-25 10:00-05:00",
    )
    assert result.exit_code == 0, result.output
    assert "-> closed" in result.output
    timed = invoke(ivr, tmp_path, "simulate", "main", "--digits", "9", "--timeout-at", "0", "--json")
    data = json.loads(timed.output)
    menu = next(step for step in data["steps"] if step["node"] == "main_menu")
    assert any(entry["kind"] == "timeout" for entry in menu["heard"])


def test_simulate_reports_bad_arguments_without_a_traceback(ivr: CliRunner, tmp_path: Path) -> None:
    bad_digits = invoke(ivr, tmp_path, "simulate", "balance", "--digits", "12x")
    assert bad_digits.exit_code == 2
    assert "not a key or T" in bad_digits.output
    missing = invoke(ivr, tmp_path, "simulate", "nosuchflow")
    assert missing.exit_code == 2
    assert "no flow file" in missing.output
    bad_time = invoke(ivr, tmp_path, "simulate", "main", "--at", "Christmas")
    assert bad_time.exit_code == 2
    assert "Traceback" not in bad_digits.output + missing.output + bad_time.output


@pytest.mark.parametrize("machine_zone", ["UTC", "Asia/Tokyo"])
def test_simulate_at_is_read_in_the_centres_zone_not_the_machines(
    ivr: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, machine_zone: str
) -> None:
    monkeypatch.setenv("TZ", machine_zone)
    time.tzset()
    walks: dict[datetime, list[str]] = {}
    try:
        # 19:30 in New York (the business hours' zone) is open; 07:30 is not, whatever the machine's zone.
        for at in ("2026-12-02 19:30", "2026-12-02 07:30"):
            result = invoke(ivr, tmp_path, "simulate", "main", "--digits", "0", "--at", at, "--json")
            assert result.exit_code == 0, result.output
            data = json.loads(result.output)
            walks[datetime.fromisoformat(data["started"])] = [
                s["outcome"] for s in data["steps"] if s["node"] == "check_hours"
            ]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert walks == {
        datetime(2026, 12, 3, 0, 30, tzinfo=UTC): ["open"],
        datetime(2026, 12, 2, 12, 30, tzinfo=UTC): ["closed"],
    }
