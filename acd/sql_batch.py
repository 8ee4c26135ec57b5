"""Several statements of one ``SqlStore`` transaction sent to PostgreSQL in one round trip.

On PostgreSQL the store keeps the writes whose outcome nothing waits for (offers, calls, round-robin
cursors, handle times, and the agents saved) until the transaction sends its next statement or
commits, and then sends them together in psycopg's pipeline mode: one round trip instead of one per
write, in the order they were made, followed by the reads that needed them (``run`` answers their
rows). The transaction's locks go first in its first round trip, with ``BEGIN``. The statements are
SQLAlchemy Core's own, compiled once per statement and parameter names. A write the database refuses
raises at the end of the batch and spoils the transaction, as it would have done on its own;
``sqlalchemy`` errors are raised for the driver's, so the store reports them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from sqlalchemy import Connection, Executable
from sqlalchemy.exc import DBAPIError

__all__ = ["Write", "run", "send"]


@dataclass(frozen=True)
class Write:
    """One statement and its parameters; ``offer`` names the (agent, call) an offer insert is for."""

    stmt: Executable
    params: dict[str, Any]
    offer: tuple[str, str] | None = None


_compiled: dict[tuple[int, tuple[str, ...]], tuple[Executable, str, Any]] = {}


def _sql(conn: Connection, write: Write) -> tuple[str, dict[str, Any]]:
    key = (id(write.stmt), tuple(sorted(write.params)))
    found = _compiled.get(key)
    if found is None or found[0] is not write.stmt:
        compiled = write.stmt.compile(dialect=conn.dialect, column_keys=list(write.params))  # type: ignore[attr-defined]
        found = _compiled[key] = (write.stmt, str(compiled), compiled)
    _, sql, compiled = found
    return sql, dict(compiled.construct_params(write.params))


def send(conn: Connection, writes: list[Write]) -> list[int]:
    """Run ``writes`` in order in one round trip; their row counts. ``DBAPIError`` (an
    ``IntegrityError`` for a refused row) if the database refuses one; the rest are then not run."""
    return [cursor.rowcount for cursor in run(conn, writes)]


def run(conn: Connection, statements: list[Write]) -> list[psycopg.Cursor[dict[str, Any]]]:
    """``send``, answering the cursors: a read's rows are there (``fetchall``, as dicts)."""
    driver: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    cursors: list[psycopg.Cursor[dict[str, Any]]] = []
    statement, parameters = "", dict[str, Any]()
    try:
        with driver.pipeline():
            for write in statements:
                statement, parameters = _sql(conn, write)
                cursor = driver.cursor(row_factory=dict_row)
                cursor.execute(statement, parameters)
                cursors.append(cursor)
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, parameters, exc, psycopg.Error,
                                  dialect=conn.dialect) from exc
    return cursors
