"""``node_events.spent_ms``: filled on every insert path, back-filled by migration 0003, and the
histogram walk the percentiles use; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import column, insert, select, table

from ivr_engine.config import Settings
from ivr_engine.flow.ports import NodeEvent
from ivr_engine.reports.node_stats import _values_at
from ivr_engine.reports.sql import split_call_path
from ivr_engine.storage import Database, open_stores
from ivr_engine.storage.migrate import upgrade
from ivr_engine.storage.models import NodeEventRow, spent_ms

T0 = datetime(2026, 5, 4, 12, 0, 0, 250_000, tzinfo=UTC)
# microseconds spent -> whole milliseconds stored (half a millisecond rounds up)
SPANS = {1: 0, 499: 0, 500: 1, 1_499: 1, 1_500: 2, 2_000_000: 2_000, 61_234_567: 61_235}


@pytest.mark.parametrize(("micros", "expected"), SPANS.items())
def test_spent_ms_rounds_to_the_nearest_millisecond(micros: int, expected: int) -> None:
    assert spent_ms(T0, T0 + timedelta(microseconds=micros)) == expected


async def test_the_write_behind_log_stores_spent_ms(migrated_settings: Settings) -> None:
    async with open_stores(migrated_settings) as stores:
        for seq, micros in enumerate(SPANS, start=1):
            entered = T0 + timedelta(minutes=seq)
            left = entered + timedelta(microseconds=micros)
            stores.node_log.record(
                NodeEvent("w1", seq, "main", f"n{seq}", "play", entered, left, None, "next")
            )
        await stores.node_log.flush()
    assert _stored(migrated_settings.db_url, "w1") == list(SPANS.values())


def test_orm_rows_get_spent_ms_without_setting_it(migrated_settings: Settings) -> None:
    database = Database(migrated_settings.db_url)
    try:
        database.call(
            lambda session: session.add_all(
                NodeEventRow(
                    call_id="o1",
                    seq=seq,
                    flow="main",
                    node="n",
                    node_type="play",
                    entered=T0,
                    left=T0 + timedelta(microseconds=micros),
                    input=None,
                    outcome="next",
                )
                for seq, micros in enumerate(SPANS, start=1)
            )
        )
    finally:
        database.dispose()
    assert _stored(migrated_settings.db_url, "o1") == list(SPANS.values())


def test_migration_0003_back_fills_existing_rows(db_settings: Settings) -> None:
    database = Database(db_settings.db_url)
    try:
        upgrade(database, "0002")
        old_events = table(
            "node_events",
            *(
                column(name)
                for name in (
                    "call_id",
                    "seq",
                    "flow",
                    "node",
                    "node_type",
                    "entered",
                    "left",
                    "input",
                    "outcome",
                )
            ),
        )
        with database.engine.begin() as connection:
            connection.execute(
                insert(old_events),
                [
                    {
                        "call_id": "m1",
                        "seq": seq,
                        "flow": "main",
                        "node": f"n{seq}",
                        "node_type": "play",
                        "entered": _as_stored(T0, database),
                        "left": _as_stored(T0 + timedelta(microseconds=micros), database),
                        "input": None,
                        "outcome": "next",
                    }
                    for seq, micros in enumerate(SPANS, start=1)
                ],
            )
        upgrade(database)
    finally:
        database.dispose()
    assert _stored(db_settings.db_url, "m1") == list(SPANS.values())


def test_values_at_walks_a_histogram_by_rank() -> None:
    histogram = [(100, 1), (200, 3), (900, 1)]  # 100, 200, 200, 200, 900
    assert _values_at(histogram, (1, 2, 4, 5)) == (100, 200, 200, 900)
    assert _values_at([(7, 1)], (1, 1, 1)) == (7, 7, 7)


def test_split_call_path_orders_steps_by_seq() -> None:
    text = "\x1e".join(["10\x1fmain\x1fmenu", "2\x1fmain\x1fwelcome", "11\x1fsurvey\x1fq1"])
    assert split_call_path(text) == (("main", "welcome"), ("main", "menu"), ("survey", "q1"))


def _as_stored(value: datetime, database: Database) -> datetime:
    """A timestamp as the UTCDateTime column would bind it (naive UTC on SQLite)."""
    return value.replace(tzinfo=None) if database.engine.dialect.name == "sqlite" else value


def _stored(url: str, call_id: str) -> list[int]:
    database = Database(url)
    try:
        ev = NodeEventRow.__table__.c
        with database.engine.connect() as connection:
            query = select(ev.spent_ms).where(ev.call_id == call_id).order_by(ev.seq)
            return [int(value) for value in connection.scalars(query)]
    finally:
        database.dispose()
