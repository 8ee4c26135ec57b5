"""The database handle: one SQLAlchemy engine and session factory, with blocking work kept off the loop.

We use SQLAlchemy's ordinary (synchronous) engine and run each unit of work in a worker thread through
``Database.run``: the same code then serves the asyncio service and the synchronous CLI, and SQLite needs
no extra async driver. ``pool_pre_ping`` makes the first use after an outage reconnect by itself (a server
database only: a SQLite connection is a file handle that cannot drop, so the ping was one more statement
per unit of work for nothing).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    StatementError,
)
from sqlalchemy.orm import Session, sessionmaker

from ivr_engine.privatefiles import create_private
from ivr_engine.storage.errors import DatabaseUnavailable, StorageError

__all__ = ["Database", "ErrorKind", "classify", "describe_error", "is_outage", "redact_url"]

T = TypeVar("T")

CONNECT_TIMEOUT_S = 5


def redact_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


class ErrorKind(enum.Enum):
    """What a failed write means for the data: see :func:`classify`."""

    OUTAGE = "outage"
    """The database cannot take writes now (down, restarting, busy, a transient conflict): retry."""
    ALARM = "alarm"
    """Like an outage (retry, keep the data), but a person must act: read-only, permission denied, a
    corrupt file, a schema that does not match. Logged at ERROR."""
    BAD_ROW = "bad_row"
    """This row can never be stored as it is (bad data, a constraint): set aside, never retried."""


_TRANSIENT_SQLSTATES = ("08", "53", "57P", "57014", "40001", "40P01", "55P03", "42P01")
"""Connection trouble, out of resources, server shutting down, query cancelled, serialization failure,
deadlock, lock not available, and an undefined table (not migrated yet: the writes wait for db init)."""
_BAD_ROW_SQLSTATES = ("22", "23")
"""Data exceptions and integrity constraint violations: the row itself is wrong."""
_SQLITE_ALARMS = ("readonly", "read-only", "malformed", "not a database", "disk i/o", "disk is full")


def classify(exc: BaseException) -> ErrorKind:
    """Outage, alarm or bad row (see ``ErrorKind``). Only errors that are certainly about the row are
    ``BAD_ROW``: SQLSTATE classes 22/23, integrity errors, and values the driver or our column types
    refuse before the database sees them. Anything else from the database is never a reason to drop
    data: a known transient state is an ``OUTAGE``, every other one an ``ALARM`` (e.g. 25006 read-only
    transaction, 42501 permission denied, a corrupt SQLite file)."""
    if isinstance(exc, DatabaseUnavailable):
        return ErrorKind.OUTAGE
    if not isinstance(exc, DBAPIError):
        # A value our column types or the driver refuse (StatementError, ValueError, TypeError) is about
        # the row; anything else is a fault of ours, and the data waits for its fix.
        about_the_row = isinstance(exc, StatementError | ValueError | TypeError)
        return ErrorKind.BAD_ROW if about_the_row else ErrorKind.ALARM
    if exc.connection_invalidated:
        return ErrorKind.OUTAGE
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        if sqlstate.startswith(_TRANSIENT_SQLSTATES):
            return ErrorKind.OUTAGE
        if sqlstate.startswith(_BAD_ROW_SQLSTATES):
            return ErrorKind.BAD_ROW
        return ErrorKind.ALARM
    if isinstance(exc, IntegrityError | DataError):
        return ErrorKind.BAD_ROW
    message = str(orig or exc).lower()
    if any(text in message for text in _SQLITE_ALARMS):
        return ErrorKind.ALARM
    if isinstance(exc, OperationalError | InterfaceError):
        return ErrorKind.OUTAGE  # SQLite's "database is locked", "unable to open", no table yet
    return ErrorKind.ALARM


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` means the database cannot take writes now (retry later), not that data is bad.

    A missing table (schema not migrated yet) counts as an outage: the writes wait for ``ivr db init``.
    On SQLite that is an ``OperationalError``; on PostgreSQL SQLSTATE 42P01.
    """
    return classify(exc) is not ErrorKind.BAD_ROW


def describe_error(exc: BaseException) -> str:
    """One line about a database error: the driver's own message, without SQLAlchemy's SQL dump."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Database:
    """An engine plus a session factory for one database URL.

    ``read_only`` opens it for reading only, enforced by the database itself: a SQLite file is opened
    with ``mode=ro`` (a missing file is not created: connecting fails) and ``query_only``; PostgreSQL
    sessions start with ``default_transaction_read_only``. Any write then fails with a database error.
    """

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StorageError(f"not a database URL: {url!r}") from exc
        self.url = parsed
        self.read_only = read_only
        connect_args: dict[str, Any] = {}
        target = parsed
        if parsed.get_backend_name() == "postgresql":
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
            if read_only:
                connect_args["options"] = _with_read_only(parsed.query.get("options"))
        elif parsed.get_backend_name() == "sqlite" and parsed.database:
            if read_only:
                target = _sqlite_read_only(parsed)
            elif _is_file(parsed):
                _create_database_file(Path(str(parsed.database)))
        try:
            self.engine: Engine = create_engine(
                target, pool_pre_ping=parsed.get_backend_name() != "sqlite", connect_args=connect_args
            )
        except (NoSuchModuleError, ImportError) as exc:
            raise StorageError(f"no driver for {redact_url(parsed)}: {exc}") from exc
        if parsed.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_reader if read_only else _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Database({redact_url(self.url)})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def call(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction (blocking; for the CLI and worker threads)."""
        with self.session() as session:
            return work(session)

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction in a worker thread, so the event loop never blocks."""
        return await asyncio.to_thread(self.call, work)

    def read_now(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` on a plain connection, no session (blocking): for Core reads, whose transaction
        is rolled back when the connection goes back to the pool (nothing to commit)."""
        with self.engine.connect() as connection:
            return work(connection)

    async def read(self, work: Callable[[Connection], T]) -> T:
        """``read_now`` in a worker thread: a lookup a call makes costs no session or ORM work."""
        return await asyncio.to_thread(self.read_now, work)

    def dispose(self) -> None:
        self.engine.dispose()


LOCAL_TIME_FUNCTION = "ivr_local_time"
"""SQLite has no time zones: ``ivr_local_time(stored_utc, zone, format)`` is registered on connect."""


def local_time_text(stored: str | None, zone: str, fmt: str) -> str | None:
    """``strftime(fmt)`` of a stored naive-UTC SQLite timestamp, in the IANA ``zone``."""
    if stored is None:
        return None
    moment = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return moment.astimezone(UTC if zone == "UTC" else ZoneInfo(zone)).strftime(fmt)


def _is_file(url: URL) -> bool:
    """A SQLite URL naming a file on disk (not ``sqlite://`` or ``:memory:``)."""
    database = url.database or ""
    return database not in ("", ":memory:") and not database.startswith("file:")


def _create_database_file(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite opens it (its WAL and shm files then get that mode)."""
    try:
        create_private(path)
    except OSError as exc:
        raise StorageError(f"cannot create the SQLite database {path}: {exc.strerror or exc}") from exc


def _with_read_only(options: str | tuple[str, ...] | None) -> str:
    """libpq ``options`` (from the URL, e.g. a search path) plus read-only transactions."""
    given = " ".join(options) if isinstance(options, tuple) else options or ""
    return f"{given} -c default_transaction_read_only=on".strip()


def _sqlite_read_only(url: URL) -> URL:
    """``url``'s SQLite file as a read-only SQLite URI (``file:PATH?mode=ro``)."""
    path = str(Path(url.database or "").resolve())
    return url.set(database=f"file:{quote(path)}", query={"mode": "ro", "uri": "true"})


def _sqlite_reader(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_function(LOCAL_TIME_FUNCTION, 3, local_time_text, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_function(LOCAL_TIME_FUNCTION, 3, local_time_text, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
