"""Fault tests of the write path: nothing acknowledged is lost, nothing is skipped in silence.

On SQLite and PostgreSQL: a service killed with SIGKILL during an outage (and with the database up),
then started again. On PostgreSQL, each on a database of its own: read-only (SQLSTATE 25006),
permission denied (42501), query cancelled (57014), backends killed mid-write (57P01), connection
refused. On SQLite: a read-only file and a corrupt file.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from ivr_engine.config import PROJECT_ROOT, Settings
from ivr_engine.flow.ports import CallRecord, NodeEvent
from ivr_engine.storage import Database, Stores, open_stores
from ivr_engine.storage.database import ErrorKind
from ivr_engine.storage.migrate import upgrade
from ivr_engine.storage.models import Call, NodeEntryRow, NodeEventRow, SurveyResponse, Voicemail
from ivr_engine.storage.queries import call_detail
from ivr_engine.storage.sweep import close_stale_calls
from tests.tcp_proxy import TcpProxy, through

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _event(call_id: str, seq: int) -> NodeEvent:
    entered = T0 + timedelta(seconds=seq)
    return NodeEvent(call_id, seq, "main", f"n{seq}", "menu", entered, entered + timedelta(seconds=1), None,
                     "next")  # fmt: skip


def crash_writer(settings: Settings, call_id: str, *, die: bool) -> int:
    """Run ``tests.storage.crash_writer`` and SIGKILL it once it says ready (or it kills itself)."""
    command = [sys.executable, "-m", "tests.storage.crash_writer", str(settings.state_dir), settings.db_url,
               call_id, *(["--die"] if die else [])]  # fmt: skip
    with subprocess.Popen(
        command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            if not die:
                assert proc.stdout is not None
                assert proc.stderr is not None
                line = proc.stdout.readline()
                assert line.strip() == "ready", line + proc.stderr.read()
                proc.send_signal(signal.SIGKILL)
            return proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()


async def counts(database: Database, call_id: str) -> dict[str, int]:
    def count(session: Any) -> dict[str, int]:
        def n(model: Any) -> int:
            query = select(func.count()).select_from(model).where(model.call_id == call_id)
            return int(session.scalar(query))

        calls = session.scalar(select(func.count()).select_from(Call).where(Call.id == call_id))
        return {"calls": int(calls), "events": n(NodeEventRow), "entries": n(NodeEntryRow),
                "surveys": n(SurveyResponse), "voicemails": n(Voicemail)}  # fmt: skip

    return await database.run(count)


async def flushed(stores: Stores, within: float = 20.0) -> None:
    """Flush until everything is written (retries of an outage included)."""
    async with asyncio.timeout(within):
        while not await stores.writer.flush():  # noqa: ASYNC110 - flush() itself waits on the writer
            await asyncio.sleep(0.1)


# -- kill -9, on both backends ---------------------------------------------------------------------


async def test_a_service_killed_during_an_outage_loses_nothing(db_settings: Settings) -> None:
    """No schema yet: every write waits. The service is SIGKILLed; after db init the next start writes
    the call, its nodes, the node it was in, the survey answer and the voicemail, once."""
    assert await asyncio.to_thread(crash_writer, db_settings, "kill-outage", die=False) == -signal.SIGKILL
    database = Database(db_settings.db_url)
    try:
        upgrade(database)
        async with open_stores(db_settings) as stores:
            await flushed(stores)
            got = await counts(stores.database, "kill-outage")
            await close_stale_calls(stores.database, set(), T0 + timedelta(hours=1))
            detail = await stores.database.run(lambda s: call_detail(s, "kill-outage"))
    finally:
        database.dispose()
    assert got == {"calls": 1, "events": 4, "entries": 1, "surveys": 1, "voicemails": 1}
    assert detail is not None
    assert [s.outcome for s in detail.path] == ["next"] * 4 + ["lost"]  # the node it was in: goodbye
    assert detail.path[-1].node == "goodbye"


async def test_a_service_killed_right_after_its_writes_loses_nothing_and_doubles_nothing(
    migrated_settings: Settings,
) -> None:
    assert await asyncio.to_thread(crash_writer, migrated_settings, "kill-up", die=True) == -signal.SIGKILL
    async with open_stores(migrated_settings) as stores:
        await flushed(stores)
        got = await counts(stores.database, "kill-up")
    assert got == {"calls": 1, "events": 4, "entries": 1, "surveys": 1, "voicemails": 1}


# -- PostgreSQL, one database per test -------------------------------------------------------------


@pytest.fixture
def pg_database(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of this test's own; dropped afterwards."""
    name = f"ivr_fault_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    upgrade(database)
    database.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def pg_admin(url: str, *statements: str) -> None:
    """Run ``statements`` as the superuser on the server of ``url`` (autocommit)."""
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def kill_backends(url: str) -> str:
    name = make_url(url).database
    return (f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")  # fmt: skip


def settings_for(url: str, tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path / "state", database_url=url)


async def refused_then_stored(
    stores: Stores,
    call_id: str,
    kind: ErrorKind,
    repair: Callable[[], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Writes refused with ``kind`` stay queued (no dead letter, loud when an alarm), then are stored
    once ``repair`` ran."""
    await stores.calls.call_started(CallRecord(call_id, "5550100", "100", T0))
    for seq in range(1, 21):
        stores.node_log.record(_event(call_id, seq))
    with caplog.at_level(logging.WARNING, logger="ivr_engine.storage.writer"):
        assert await stores.writer.flush() is False
    assert stores.writer.last_error is kind
    assert stores.writer.pending == 21
    assert stores.writer.dead_lettered == 0
    if kind is ErrorKind.ALARM:
        assert any(r.levelno == logging.ERROR and "operator action" in r.message for r in caplog.records)
    await asyncio.to_thread(repair)
    await flushed(stores)
    assert await counts(stores.database, call_id) == {
        "calls": 1, "events": 20, "entries": 0, "surveys": 0, "voicemails": 0}  # fmt: skip


@pytest.mark.postgres
async def test_postgres_read_only_keeps_the_writes_until_it_is_writable(
    pg_database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name = make_url(pg_database).database
    async with open_stores(settings_for(pg_database, tmp_path), flush_interval=0.02) as stores:
        await stores.database.run(lambda s: s.execute(text("SELECT 1")))  # a pooled connection
        pg_admin(pg_database, f'ALTER DATABASE "{name}" SET default_transaction_read_only = on',
                 kill_backends(pg_database))  # fmt: skip

        def writable() -> None:
            pg_admin(pg_database, f'ALTER DATABASE "{name}" RESET default_transaction_read_only',
                     kill_backends(pg_database))  # fmt: skip

        await refused_then_stored(stores, "pg-ro", ErrorKind.ALARM, writable, caplog)
    assert "read-only transaction" in caplog.text


@pytest.mark.postgres
async def test_postgres_permission_denied_keeps_the_writes_until_granted(
    pg_database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    role = f"ivr_writer_{uuid.uuid4().hex[:8]}"
    name = make_url(pg_database).database
    engine = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in (
            f'CREATE ROLE "{role}" LOGIN', f'GRANT CONNECT ON DATABASE "{name}" TO "{role}"',
            f'GRANT USAGE ON SCHEMA public TO "{role}"',
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
            f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
            f'REVOKE INSERT ON node_events FROM "{role}"',
        ):  # fmt: skip
            connection.execute(text(statement))
    url = make_url(pg_database).set(username=role, password=None).render_as_string(hide_password=False)

    def grant() -> None:
        with engine.connect() as connection:
            connection.execute(text(f'GRANT INSERT ON node_events TO "{role}"'))

    try:
        async with open_stores(settings_for(url, tmp_path), flush_interval=0.02) as stores:
            await refused_then_stored(stores, "pg-perm", ErrorKind.ALARM, grant, caplog)
        assert "permission denied" in caplog.text
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE "{role}"'))
        engine.dispose()


@pytest.mark.postgres
async def test_postgres_query_cancelled_is_an_outage(
    pg_database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """node_events locked by another session and a 100 ms statement timeout: inserts are cancelled
    (57014) and retried until the lock goes."""
    name = make_url(pg_database).database
    pg_admin(pg_database, f"ALTER DATABASE \"{name}\" SET statement_timeout = '100ms'")
    locker = create_engine(pg_database)
    connection = locker.connect()
    transaction = connection.begin()
    connection.execute(text("SET LOCAL statement_timeout = 0"))
    connection.execute(text("LOCK TABLE node_events IN ACCESS EXCLUSIVE MODE"))

    def unlock() -> None:
        transaction.rollback()
        connection.close()

    try:
        async with open_stores(settings_for(pg_database, tmp_path), flush_interval=0.02) as stores:
            await refused_then_stored(stores, "pg-cancel", ErrorKind.OUTAGE, unlock, caplog)
        assert "canceling statement due to statement timeout" in caplog.text
    finally:
        if not connection.closed:
            unlock()
        locker.dispose()


@pytest.mark.postgres
async def test_postgres_backends_killed_mid_write_lose_and_double_nothing(
    pg_database: str, tmp_path: Path
) -> None:
    async with open_stores(settings_for(pg_database, tmp_path), batch_size=20, flush_interval=0.01) as stores:
        await stores.calls.call_started(CallRecord("pg-killed", "5550100", "100", T0))
        for seq in range(1, 401):
            stores.node_log.record(_event("pg-killed", seq))
            if seq % 50 == 0:
                await asyncio.to_thread(pg_admin, pg_database, kill_backends(pg_database))
                await asyncio.sleep(0.02)
        await flushed(stores)
        got = await counts(stores.database, "pg-killed")
    assert got["events"] == 400
    assert got["calls"] == 1


@pytest.mark.postgres
async def test_postgres_connection_refused_keeps_the_writes(
    pg_database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = make_url(pg_database)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    try:
        settings = settings_for(through(proxy, pg_database), tmp_path)
        async with open_stores(settings, flush_interval=0.02) as stores:
            await proxy.cut()
            loop = asyncio.get_running_loop()

            def restore() -> None:
                asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(5)

            await refused_then_stored(stores, "pg-refused", ErrorKind.OUTAGE, restore, caplog)
    finally:
        await proxy.cut()


# -- SQLite ----------------------------------------------------------------------------------------


async def test_sqlite_read_only_keeps_the_writes_until_it_is_writable(
    migrated_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    if not migrated_settings.db_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    async with open_stores(migrated_settings, flush_interval=0.02) as stores:
        engine = stores.database.engine

        def read_only(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA query_only = ON")

        event.listen(engine, "connect", read_only)
        engine.dispose()

        def writable() -> None:
            event.remove(engine, "connect", read_only)
            engine.dispose()

        await refused_then_stored(stores, "sqlite-ro", ErrorKind.ALARM, writable, caplog)
    assert "readonly database" in caplog.text


async def test_sqlite_corrupt_file_keeps_the_writes_until_it_is_repaired(
    migrated_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    if not migrated_settings.db_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    path = Path(str(make_url(migrated_settings.db_url).database))
    backup = path.with_name("backup.db")
    shutil.copy(path, backup)
    async with open_stores(migrated_settings, flush_interval=0.02) as stores:
        stores.database.engine.dispose()

        def corrupt() -> None:
            for stale in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                stale.unlink(missing_ok=True)
            path.write_bytes(b"this is no longer a database" * 200)

        await asyncio.to_thread(corrupt)

        def repaired() -> None:
            stores.database.engine.dispose()
            shutil.copy(backup, path)

        await refused_then_stored(stores, "sqlite-corrupt", ErrorKind.ALARM, repaired, caplog)
    assert "not a database" in caplog.text
