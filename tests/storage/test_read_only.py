"""The read-only database handle (what `ivr simulate` reads the live data through) and naming a
separate database on the command line (`--record-to`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ivr_engine.config import Settings
from ivr_engine.flow.ports import LookupStatus
from ivr_engine.storage import Database, StorageError
from ivr_engine.storage.lookups import SqlLookups
from ivr_engine.storage.models import Call, Customer
from ivr_engine.storage.pins import Pins
from ivr_engine.storage.targets import database_url, same_database


async def test_read_only_database_answers_lookups_and_refuses_writes(
    seeded_settings: Settings, pins: Pins
) -> None:
    database = Database(seeded_settings.db_url, read_only=True)
    try:
        found = await SqlLookups(database, pins).run("customer_by_phone", {"phone": "15550001001"})
        assert found.status is LookupStatus.FOUND
        with pytest.raises(SQLAlchemyError):
            database.call(lambda session: session.add(Customer(name="intruder", vip_level=0)))
    finally:
        database.dispose()
    writer = Database(seeded_settings.db_url)
    try:
        names = writer.call(lambda session: session.scalars(select(Customer.name)).all())
        calls = writer.call(lambda session: session.scalar(select(func.count()).select_from(Call)))
    finally:
        writer.dispose()
    assert "intruder" not in names
    assert calls == 0


async def test_read_only_sqlite_never_creates_a_missing_file(tmp_path: Path, pins: Pins) -> None:
    missing = tmp_path / "state" / "ivr.db"
    database = Database(f"sqlite:///{missing}", read_only=True)
    try:
        answer = await SqlLookups(database, pins).run("customer_by_phone", {"phone": "15550001001"})
    finally:
        database.dispose()
    assert answer.status is LookupStatus.ERROR
    assert not missing.exists()
    assert not missing.parent.exists()


def test_database_url_takes_a_file_or_a_url(tmp_path: Path) -> None:
    assert database_url(str(tmp_path / "sim.db")) == f"sqlite:///{tmp_path / 'sim.db'}"
    assert database_url("postgresql://u@db/ivr") == "postgresql://u@db/ivr"
    bad_names = (
        ("", "empty"),
        (str(tmp_path), "is a folder"),
        ("://db", "not a database URL"),
        ("postgresql://db:port/ivr", "not a database URL"),
    )
    for bad, says in bad_names:
        with pytest.raises(StorageError, match=says):
            database_url(bad)


def test_same_database_sees_through_spellings(tmp_path: Path) -> None:
    live = tmp_path / "state" / "ivr.db"
    live.parent.mkdir()
    live.touch()
    (tmp_path / "link.db").symlink_to(live)
    live_url = f"sqlite:///{live}"
    assert same_database(live_url, f"sqlite:///{tmp_path}/state/../state/ivr.db")
    assert same_database(live_url, database_url(str(tmp_path / "link.db")))
    assert same_database(live_url, f"sqlite+pysqlite:///{live}")
    assert not same_database(live_url, f"sqlite:///{tmp_path / 'other.db'}")
    assert same_database("postgresql://a:x@localhost/ivr", "postgresql+psycopg://b@127.0.0.1:5432/ivr")
    assert not same_database("postgresql://localhost/ivr", "postgresql://localhost/ivr_sim")
    assert not same_database("postgresql://localhost/ivr", "postgresql://otherhost/ivr")
    assert not same_database("sqlite://", "sqlite://")  # two in-memory databases are two databases
