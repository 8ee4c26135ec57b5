"""The SQLAlchemy engine behind ``SqlStore``, and its database errors as ``StoreError``.

SQLite: the driver's own transaction handling is switched off and every transaction starts with
``BEGIN IMMEDIATE``, so one engine operation reads and writes under the database's write lock (a second
process waits up to ``busy_timeout`` instead of failing half-way). WAL journal, foreign keys on, and
``synchronous=NORMAL``: a commit survives the process being killed (``kill -9``), and skips the fsync
that would only matter if the machine itself lost power, which ends every live call anyway (this is
live call state, not a record); it halves the time of a routing decision.
PostgreSQL: psycopg 3, a connect timeout, and psycopg's own prepared statements off (``acd.sql_batch``
prepares the store's). A connection taken from the pool after lying idle for
``PING_AFTER_IDLE_S`` or more is pinged first (and replaced if dead), so the first use after an outage
reconnects by itself; one used moments ago is pinged only if its socket has something to read (a ping
is a round trip, and a busy store takes a connection for every transaction; an idle connection has
nothing to read unless the server said goodbye, as a terminated backend or a shutting-down server
does, or closed it), so a connection the server dropped a moment after its last use is replaced
instead of failing the next operation. Whatever a transaction did to the driver connection's autocommit
(``acd.sql_session`` sends its own ``BEGIN``) is undone when it goes back to the pool.
"""

from __future__ import annotations

import select
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from acd.errors import StoreError

__all__ = ["CONNECT_TIMEOUT_S", "PING_AFTER_IDLE_S", "make_engine", "store_error"]

CONNECT_TIMEOUT_S = 5
PING_AFTER_IDLE_S = 1.0
_RETURNED = "acd_returned_at"
_MISSING_TABLE_SQLSTATE = "42P01"


def make_engine(url: str) -> Engine:
    """An engine for ``sqlite:///FILE`` or ``postgresql+psycopg://...``; ``StoreError`` if unusable."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        # acd.sql_batch prepares the store's statements itself; psycopg's own preparing would drop them
        # all (DEALLOCATE ALL) at every rollback of a connection it had prepared a statement on
        connect_args["prepare_threshold"] = None
    elif backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        # No pool pre-ping: a PostgreSQL connection is pinged only after an idle spell or when its
        # socket has something to read (_ping_if_idle), and a SQLite connection is a file handle that
        # cannot drop (a ping per read was pure cost).
        engine = create_engine(parsed, pool_pre_ping=False, connect_args=connect_args)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"no driver for {_redacted(url)}: {exc}") from exc
    if backend == "postgresql":
        event.listen(engine, "checkout", lambda dbapi, record, _proxy: _ping_if_idle(engine, dbapi, record))
        event.listen(engine, "checkin", _returned)
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _ping_if_idle(engine: Engine, dbapi_connection: Any, record: Any,
                  clock: Any = time.monotonic) -> None:
    """Checkout: ping a connection idle for ``PING_AFTER_IDLE_S`` or more, or one with something to
    read; a dead one is replaced (the pool retries the checkout on ``DisconnectionError``)."""
    returned = record.info.get(_RETURNED)
    if returned is None:
        return  # new
    if clock() - returned < PING_AFTER_IDLE_S and not _has_input(dbapi_connection):
        return  # in use moments ago, and the server has said nothing since
    try:
        engine.dialect.do_ping(dbapi_connection)
    except engine.dialect.loaded_dbapi.Error as exc:
        raise DisconnectionError(str(exc)) from exc


def _has_input(dbapi_connection: Any) -> bool:
    """The idle connection's socket is readable (the server's goodbye, end of file) or gone: a syscall,
    no round trip."""
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError, dbapi_connection.Error):
        return True
    return bool(readable)


def _returned(dbapi_connection: Any, record: Any) -> None:
    """Checkin: back to the driver's own transactions, and when."""
    if dbapi_connection is None:
        return
    if dbapi_connection.autocommit:
        try:
            dbapi_connection.autocommit = False
        except dbapi_connection.Error:  # not idle: it is broken, replace it
            record.invalidate()
            return
    record.info[_RETURNED] = time.monotonic()


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we say BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def store_error(exc: SQLAlchemyError, url: str) -> StoreError | None:
    """``exc`` as an operator's message when it means the database is out of reach or not migrated;
    ``None`` for anything else (a bug to let through as is)."""
    where = _redacted(url)
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if sqlstate == _MISSING_TABLE_SQLSTATE or "no such table" in detail:
        return StoreError(f"{where} has no ACD tables ({detail}): run `ivr db upgrade` first")
    invalidated = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if invalidated or isinstance(exc, OperationalError | InterfaceError):
        return StoreError(f"the ACD state database {where} is unavailable: {detail}")
    return None
