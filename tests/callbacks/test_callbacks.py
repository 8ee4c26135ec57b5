"""Booked callbacks managed by people, on SQLite and PostgreSQL, and through ``ivr callbacks``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from acd.records.callbacks import CallbackError, cancel_callback, list_callbacks, retry_callback
from acd.records.rows import CallbackRow, CallbackStatus
from cli import main
from ivr_engine.config import Settings
from ivr_engine.storage import Database

T0 = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def book(session: Session, call_id: str, minutes: int, status: str = "pending",
         queue: str = "general") -> int:
    row = CallbackRow(call_id=call_id, caller=f"555{minutes}", number=f"555{minutes}", queue=queue,
                      requested=T0 + timedelta(minutes=minutes), status=status)
    session.add(row)
    session.flush()
    return row.id


@pytest.fixture
def db(migrated_settings: Settings) -> Iterator[Callable[[Callable[[Session], Any]], Any]]:
    database = Database(migrated_settings.db_url)
    yield database.call
    database.dispose()


def test_callbacks_are_listed_in_line_order_and_managed(db: Callable[..., Any]) -> None:
    late = db(lambda s: book(s, "c2", 10))
    early = db(lambda s: book(s, "c1", 1))
    failed = db(lambda s: book(s, "c3", 5, status="failed"))
    db(lambda s: book(s, "c4", 2, queue="billing"))
    assert [c.id for c in db(lambda s: list_callbacks(s, queue="general"))] == [early, late]
    assert len(db(lambda s: list_callbacks(s, status=None))) == 4
    cancelled = db(lambda s: cancel_callback(s, late))
    assert cancelled.status is CallbackStatus.CANCELLED
    with pytest.raises(CallbackError, match="only a pending one"):
        db(lambda s: cancel_callback(s, late))
    with pytest.raises(CallbackError, match="only a failed or cancelled one"):
        db(lambda s: retry_callback(s, early))
    db(lambda s: retry_callback(s, failed))
    db(lambda s: retry_callback(s, late))
    assert [c.id for c in db(lambda s: list_callbacks(s, queue="general"))] == [early, failed, late]
    with pytest.raises(CallbackError, match="no callback 999"):
        db(lambda s: cancel_callback(s, 999))


def test_the_cli(tmp_path: Path) -> None:
    state = tmp_path / "state"

    def ivr(*args: str) -> Any:
        return CliRunner().invoke(main, ["--state-dir", str(state), *args], catch_exceptions=False, env={
            "IVR_DATABASE_URL": None, "IVR_CONFIG": None, "IVR_TIMEZONE": "America/New_York"})

    assert ivr("db", "init").exit_code == 0
    database = Database(Settings(state_dir=state).db_url)
    first = database.call(lambda s: book(s, "c1", 1))
    database.dispose()
    header, row = ivr("callbacks", "list").output.splitlines()
    assert header.split() == ["ID", "QUEUE", "NUMBER", "IN", "LINE", "SINCE", "STATUS", "TRIES", "NEXT",
                              "TRY", "CALLED", "BACK", "AGENT", "CALL"]
    assert "2026-12-03 10:01" in row  # the centre's time
    assert row.split()[-5:] == ["0", "-", "-", "-", "c1"]  # not dialled yet
    cancelled = ivr("callbacks", "cancel", str(first)).output.strip()
    assert cancelled == f"callback {first} (5551, queue general): cancelled"
    assert ivr("callbacks", "list").output.strip() == "no callbacks"
    listed = json.loads(ivr("callbacks", "list", "--all", "--json").output)
    assert [(c["status"], c["attempts"], c["connected"]) for c in listed] == [("cancelled", 0, None)]
    again = ivr("callbacks", "cancel", str(first))
    assert again.exit_code == 1
    assert "only a pending one can be cancelled" in again.output
