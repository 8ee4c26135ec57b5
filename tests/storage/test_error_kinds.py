"""Database errors sorted into outage, alarm and bad row: only a bad row is ever set aside."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import (
    DatabaseError,
    DataError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
    StatementError,
)

from ivr_engine.storage.database import ErrorKind, classify, is_outage
from ivr_engine.storage.errors import DatabaseUnavailable


class PgError(Exception):
    """What psycopg raises: an exception with the SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "kind"),
    [
        ("25006", ErrorKind.ALARM),  # read-only transaction
        ("42501", ErrorKind.ALARM),  # permission denied
        ("42703", ErrorKind.ALARM),  # undefined column: a schema that does not match
        ("XX001", ErrorKind.ALARM),  # data corrupted
        ("57014", ErrorKind.OUTAGE),  # query cancelled
        ("40001", ErrorKind.OUTAGE),  # serialization failure
        ("40P01", ErrorKind.OUTAGE),  # deadlock
        ("57P01", ErrorKind.OUTAGE),  # admin shutdown
        ("08006", ErrorKind.OUTAGE),  # connection failure
        ("53300", ErrorKind.OUTAGE),  # too many connections
        ("42P01", ErrorKind.OUTAGE),  # no table yet: waits for db init
        ("23505", ErrorKind.BAD_ROW),  # unique violation
        ("22001", ErrorKind.BAD_ROW),  # value too long
    ],
)
def test_postgres_sqlstates(sqlstate: str, kind: ErrorKind) -> None:
    error = ProgrammingError("INSERT ...", {}, PgError(sqlstate))
    assert classify(error) is kind
    assert is_outage(error) is (kind is not ErrorKind.BAD_ROW)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (OperationalError("x", {}, sqlite3.OperationalError("database is locked")), ErrorKind.OUTAGE),
        (OperationalError("x", {}, sqlite3.OperationalError("no such table: calls")), ErrorKind.OUTAGE),
        (OperationalError("x", {}, sqlite3.OperationalError("attempt to write a readonly database")),
         ErrorKind.ALARM),
        (DatabaseError("x", {}, sqlite3.DatabaseError("database disk image is malformed")), ErrorKind.ALARM),
        (DatabaseError("x", {}, sqlite3.DatabaseError("file is not a database")), ErrorKind.ALARM),
        (IntegrityError("x", {}, sqlite3.IntegrityError("CHECK constraint failed")), ErrorKind.BAD_ROW),
        (DataError("x", {}, sqlite3.DataError("too big")), ErrorKind.BAD_ROW),
        (StatementError("naive datetime", "INSERT", {}, ValueError("naive")), ErrorKind.BAD_ROW),
        (DatabaseUnavailable("cannot reach"), ErrorKind.OUTAGE),
        (RuntimeError("a bug of ours"), ErrorKind.ALARM),
    ],
    ids=["locked", "no-table", "readonly", "malformed", "not-a-database", "check", "data", "naive", "down",
         "bug"],
)
def test_sqlite_and_other_errors(error: BaseException, kind: ErrorKind) -> None:
    assert classify(error) is kind
