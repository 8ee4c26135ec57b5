"""Migration 0004: customers the screen-pop once created as "unknown caller" lose that fake name."""

from __future__ import annotations

from sqlalchemy import text

from ivr_engine.config import Settings
from ivr_engine.storage import Database
from ivr_engine.storage.migrate import upgrade


def test_fake_unknown_caller_names_are_emptied(db_settings: Settings) -> None:
    database = Database(db_settings.db_url)
    try:
        upgrade(database, "0003")
        with database.engine.begin() as connection:
            insert = text("INSERT INTO customers (name, vip_level, created) VALUES (:n, 0, :at)")
            for name in ("unknown caller", "Alice Chen", "unknown caller"):
                connection.execute(insert, {"n": name, "at": "2026-11-20 09:00:00"})
        upgrade(database)
        with database.engine.connect() as connection:
            names = connection.execute(text("SELECT name FROM customers ORDER BY id")).scalars().all()
    finally:
        database.dispose()
    assert names == ["", "Alice Chen", ""]
