"""``ivr db`` and ``ivr calls`` through click's CliRunner, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main
from ivr_engine.config import Settings
from ivr_engine.flow.ports import CallRecord, NodeEvent
from ivr_engine.storage import open_stores

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _ivr(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(
        main,
        ["--state-dir", str(settings.state_dir), *args],
        env={"IVR_DATABASE_URL": settings.database_url, "IVR_CONFIG": None},
        catch_exceptions=False,
    )


def test_db_init_and_seed_are_safe_to_rerun(db_settings: Settings) -> None:
    first = _ivr(db_settings, "db", "init")
    assert first.exit_code == 0, first.output
    assert "upgraded from empty" in first.output
    again = _ivr(db_settings, "db", "init")
    assert "already at revision" in again.output
    seeded = _ivr(db_settings, "db", "seed")
    assert seeded.exit_code == 0, seeded.output
    assert "seeded 5 customer(s)" in seeded.output
    reseeded = _ivr(db_settings, "db", "seed")
    assert reseeded.exit_code == 0
    assert "nothing added" in reseeded.output


def test_db_seed_before_init_is_a_clear_error(db_settings: Settings) -> None:
    result = _ivr(db_settings, "db", "seed")
    assert result.exit_code == 1
    assert "run `ivr db init` first" in result.output
    assert "Traceback" not in result.output


def test_db_init_against_a_closed_port_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, database_url="postgresql+psycopg://postgres@127.0.0.1:1/test")
    result = _ivr(settings, "db", "init")
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output


@pytest.fixture
async def logged_call(migrated_settings: Settings) -> Settings:
    """One finished balance call with three nodes (the PIN masked) and one call still in progress."""
    async with open_stores(migrated_settings) as stores:
        await stores.calls.call_started(CallRecord("c-1", "15550001001", "101", T0))
        steps = [
            ("ask_account", "gather", "100200#", "next"),
            ("ask_pin", "gather", "****", "next"),
            ("auth", "lookup", None, "found"),
        ]
        for seq, (node, kind, value, outcome) in enumerate(steps, start=1):
            entered = T0 + timedelta(seconds=2 * seq)
            stores.node_log.record(
                NodeEvent(
                    "c-1",
                    seq,
                    "balance",
                    node,
                    kind,
                    entered,
                    entered + timedelta(seconds=1.5),
                    value,
                    outcome,
                )
            )
        await stores.calls.call_ended("c-1", T0 + timedelta(seconds=20), "completed")
        await stores.calls.call_started(CallRecord("c-2", "15550001002", "100", T0 + timedelta(minutes=5)))
    return migrated_settings


def test_calls_list_table_and_json(logged_call: Settings) -> None:
    table = _ivr(logged_call, "calls", "list")
    assert table.exit_code == 0, table.output
    header, newest, oldest = table.output.splitlines()
    assert header.split() == ["ID", "CALLER", "DIALLED", "STARTED", "DURATION", "DISPOSITION", "NODES"]
    assert newest.split()[0] == "c-2"
    assert newest.split()[-3:] == ["-", "in_progress", "0"]
    assert oldest.split()[:3] == ["c-1", "15550001001", "101"]
    assert oldest.split()[-3:] == ["20.0s", "completed", "3"]
    assert header.index("CALLER") == newest.index("15550001002")  # aligned columns

    data = json.loads(_ivr(logged_call, "calls", "list", "--json").output)
    assert [c["call_id"] for c in data] == ["c-2", "c-1"]
    assert (data[1]["duration"], data[1]["nodes"], data[1]["disposition"]) == (20.0, 3, "completed")
    assert data[0]["ended"] is None

    limited = json.loads(_ivr(logged_call, "calls", "list", "--limit", "1", "--json").output)
    assert [c["call_id"] for c in limited] == ["c-2"]


def test_calls_show_path_table_and_json(logged_call: Settings) -> None:
    shown = _ivr(logged_call, "calls", "show", "c-1")
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert "15550001001 -> 101" in lines[0]
    path = lines[lines.index("") + 1 :]
    assert path[0].split() == ["SEQ", "FLOW", "NODE", "TYPE", "INPUT", "OUTCOME", "TIME"]
    assert path[2].split() == ["2", "balance", "ask_pin", "gather", "****", "next", "1.5s"]
    assert path[3].split() == ["3", "balance", "auth", "lookup", "found", "1.5s"]
    assert "4321" not in shown.output

    data = json.loads(_ivr(logged_call, "calls", "show", "c-1", "--json").output)
    assert [(s["seq"], s["node"], s["input"], s["outcome"]) for s in data["path"]] == [
        (1, "ask_account", "100200#", "next"),
        (2, "ask_pin", "****", "next"),
        (3, "auth", None, "found"),
    ]
    assert data["path"][0]["seconds"] == 1.5
    assert data["disposition"] == "completed"


def test_calls_show_unknown_call(logged_call: Settings) -> None:
    result = _ivr(logged_call, "calls", "show", "nope")
    assert result.exit_code == 1
    assert "no call 'nope'" in result.output


def test_calls_list_before_init_is_a_clear_error(db_settings: Settings) -> None:
    result = _ivr(db_settings, "calls", "list")
    assert result.exit_code == 1
    assert "ivr db init" in result.output
