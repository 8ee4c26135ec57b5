"""Storage: the schema and its migrations, demo data, named lookups and the write-behind call log.

The live service and the simulator open everything at once::

    async with open_stores(settings) as stores:
        interpreter = Interpreter(lookups=stores.lookups, node_log=stores.node_log, ...)

Opening does not migrate (``ivr db init`` does) and does not fail when the database is down: lookups
answer ``error`` and writes wait in the write-behind queue until it is back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ivr_engine.config import Settings
from ivr_engine.flow.ports import Clock
from ivr_engine.storage.database import Database
from ivr_engine.storage.deadletter import DeadLetters
from ivr_engine.storage.errors import DatabaseUnavailable, InvalidRecord, MigrationError, StorageError
from ivr_engine.storage.lookups import SqlLookups
from ivr_engine.storage.pins import PinKeyFile, Pins
from ivr_engine.storage.spool import spool_for
from ivr_engine.storage.stores import SqlCallStore, SqlNodeLog, SqlSurveyStore, SqlVoicemailStore
from ivr_engine.storage.writer import WriteBehind

__all__ = [
    "Database",
    "DatabaseUnavailable",
    "InvalidRecord",
    "MigrationError",
    "StorageError",
    "Stores",
    "open_stores",
]


@dataclass(frozen=True)
class Stores:
    """Everything the interpreter and the service need from storage, sharing one database handle."""

    database: Database
    lookups: SqlLookups
    node_log: SqlNodeLog
    calls: SqlCallStore
    surveys: SqlSurveyStore
    voicemails: SqlVoicemailStore
    writer: WriteBehind


@asynccontextmanager
async def open_stores(
    settings: Settings,
    *,
    batch_size: int = 200,
    flush_interval: float = 0.25,
    close_grace: float = 5.0,
    clock: Clock | None = None,
) -> AsyncIterator[Stores]:
    """Open the database at ``settings.db_url`` and run the write-behind flusher until exit.

    Every write is journalled under ``settings.state_dir``/spool before it is queued; on exit the queued
    writes are flushed (retrying an outage for up to ``close_grace`` seconds), and what the database still
    cannot take stays in the journal and is written on the next open (also after a crash). Rows the
    database refuses as bad are kept in ``settings.state_dir``/deadletter.jsonl. PINs are checked under
    the key in ``settings.pin_key_path`` (read on first use; ``ivr serve`` reads it at start).
    """
    database = Database(settings.db_url)
    writer = WriteBehind(
        database, batch_size=batch_size, interval=flush_interval,
        journal=spool_for(settings.state_dir, database.url),
        dead_letters=DeadLetters(settings.state_dir / "deadletter.jsonl"),
        clock=clock.now if clock is not None else None,
    )  # fmt: skip
    writer.start()
    try:
        yield Stores(
            database=database,
            lookups=SqlLookups(database, Pins(PinKeyFile(settings.pin_key_path))),
            node_log=SqlNodeLog(writer),
            calls=SqlCallStore(writer, settings.node_id),
            surveys=SqlSurveyStore(writer, clock),
            voicemails=SqlVoicemailStore(writer, clock),
            writer=writer,
        )
    finally:
        await writer.close(close_grace)
        database.dispose()
