"""Several statements of one ``SqlStore`` transaction sent to PostgreSQL in one round trip.

On PostgreSQL the store keeps the writes whose outcome nothing waits for (offers, calls, round-robin
cursors, handle times, and the agents saved) until the transaction sends its next statement or
commits, and then sends them together in one pipeline: one round trip instead of one per write, in
the order they were made, followed by the reads that needed them (``run`` answers their rows). The
transaction's locks go first in its first round trip, with ``BEGIN``.

The pipeline is libpq's, driven here directly rather than through psycopg's cursors (which cost ~50 µs
of this process's CPU per statement, and a ``sendto`` each): every statement is queued in libpq's
buffer, the batch leaves in one write with its ``Sync``, and the answers are read back in one pass.
The statements are SQLAlchemy Core's own, compiled once per statement and parameter names; their
parameters are adapted by psycopg's own ``Transformer`` (the same types and values as its cursors
send). Each statement is prepared on a connection the first time it is sent there (parsed once, with
the plan the server keeps for it, as psycopg does for a statement it sees often). psycopg's own
preparing is off on the store's connections (``acd.sql_engine``): it drops every prepared statement
of a connection at each rollback. Should they be dropped all the same, the batch that finds one
missing fails and the next prepares them again. A statement the database refuses raises at the end
of the batch (the statements after it are not run) and spoils the transaction, as it would have done
on its own; ``sqlalchemy`` errors are raised for the driver's, so the store reports them the same way.

``psycopg.generators`` and ``psycopg.waiting`` are not psycopg's documented API: setup.cfg takes psycopg
3.3 only, and a new minor version is taken on purpose once tests/acd pass on it.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import abc, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.generators import send
from psycopg.waiting import Ready, Wait
from sqlalchemy import Connection, Executable
from sqlalchemy.exc import DBAPIError

__all__ = ["Answer", "Write", "run", "send_writes"]


@dataclass(frozen=True)
class Write:
    """One statement and its parameters; ``offer`` names the (agent, call) an offer insert is for."""

    stmt: Executable
    params: dict[str, Any]
    offer: tuple[str, str] | None = None


@dataclass(frozen=True)
class Answer:
    """What one statement of a batch answered: its row count and, for a read, its rows (as dicts)."""

    rowcount: int
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class _Compiled:
    stmt: Executable
    sql: str
    """As SQLAlchemy compiled it (``%(name)s`` placeholders): what an error names."""
    query: bytes
    """With ``$n`` placeholders, as libpq takes it."""
    order: tuple[str, ...]
    """The parameter of each ``$n``."""
    fixed: dict[str, Any]
    """Parameters SQLAlchemy bound itself (literals)."""


@dataclass
class _Prepared:
    """A driver connection's statements prepared by this module, and its transformer."""

    tx: abc.Transformer
    encoding: str
    names: dict[tuple[bytes, tuple[int, ...]], bytes] = field(default_factory=dict)
    made: int = 0
    """Names given so far (a name is never given twice: one that failed to prepare may exist still)."""


_compiled: dict[tuple[int, tuple[str, ...]], _Compiled] = {}
_prepared: weakref.WeakKeyDictionary[psycopg.Connection[Any], _Prepared] = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(rb"%\((\w+)\)s|%%|%")
_PREPARED_MAX = 500
"""Statements prepared per connection at most: the rest are sent unprepared."""


def _compile(conn: Connection, write: Write) -> _Compiled:
    key = (id(write.stmt), tuple(sorted(write.params)))
    found = _compiled.get(key)
    if found is not None and found.stmt is write.stmt:
        return found
    compiled: Any = write.stmt.compile(dialect=conn.dialect, column_keys=list(write.params))  # type: ignore[attr-defined]
    sql = str(compiled)
    fixed = {k: v for k, v in compiled.construct_params(write.params).items() if k not in write.params}
    order: list[str] = []

    def number(match: re.Match[bytes]) -> bytes:
        if match.group(1) is None:
            if match.group(0) != b"%%":
                raise ValueError(f"unexpected '%' in {sql!r}")
            return b"%"
        name = match.group(1).decode()
        if name not in order:
            order.append(name)
        return b"$%d" % (order.index(name) + 1)

    query = _PLACEHOLDER.sub(number, sql.encode())
    found = _compiled[key] = _Compiled(write.stmt, sql, query, tuple(order), fixed)
    return found


def send_writes(conn: Connection, writes: list[Write]) -> list[int]:
    """Run ``writes`` in order in one round trip; their row counts. ``DBAPIError`` (an
    ``IntegrityError`` for a refused row) if the database refuses one; the rest are then not run."""
    return [answer.rowcount for answer in run(conn, writes)]


def run(conn: Connection, statements: list[Write]) -> list[Answer]:
    """``send_writes``, answering each statement's rows too."""
    driver: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    pgconn = driver.pgconn
    state = _prepared.get(driver)
    if state is None:
        state = _prepared[driver] = _Prepared(Transformer.from_context(driver), driver.info.encoding)
    tx = state.tx
    compiled = [_compile(conn, write) for write in statements]
    preparing: dict[bytes, tuple[bytes, tuple[int, ...]]] = {}
    pending: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
    kinds: list[bytes | None] = []  # per result: the name being prepared, else None (a statement)
    try:
        pgconn.enter_pipeline_mode()
        try:
            for write, c in zip(statements, compiled, strict=True):
                values = [write.params[k] if k in write.params else c.fixed[k] for k in c.order]
                params = tx.dump_sequence(values, [PyFormat.AUTO] * len(values)) if values else None
                types = tuple(tx.types or ()) if values else ()
                formats = tx.formats if values else None
                key = (c.query, types)
                name = state.names.get(key) or pending.get(key)
                if name is None and state.made < _PREPARED_MAX:
                    name = pending[key] = b"acd_%d" % state.made
                    state.made += 1
                    pgconn.send_prepare(name, c.query, param_types=types)
                    preparing[name] = key
                    kinds.append(name)
                if name is None:
                    pgconn.send_query_params(c.query, params, param_types=types, param_formats=formats)
                else:
                    pgconn.send_query_prepared(name, params, param_formats=formats)
                kinds.append(None)
            pgconn.pipeline_sync()
            driver.wait(send(pgconn))
            groups = driver.wait(_results(pgconn))
        finally:
            if pgconn.status != pq.ConnStatus.BAD:
                pgconn.exit_pipeline_mode()
        answers, refused = _answers(state, tx, kinds, preparing, groups, state.encoding)
        if refused is None:
            return answers
        error, statement = refused
        if isinstance(error, psycopg.errors.InvalidSqlStatementName):  # dropped behind our back
            state.names.clear()  # (DEALLOCATE ALL, DISCARD ALL): prepared again from the next batch
    except psycopg.Error as exc:  # the connection failed
        error, statement = exc, 0
    raise DBAPIError.instance(compiled[statement].sql if compiled else "", statements[statement].params
                              if statements else {}, error, psycopg.Error, dialect=conn.dialect) from error


def _results(pgconn: pq.abc.PGconn) -> Generator[Wait, Ready | int, list[list[pq.abc.PGresult]]]:
    """Every answer of the pipeline up to its ``Sync``: a list of results per statement."""
    groups: list[list[pq.abc.PGresult]] = []
    group: list[pq.abc.PGresult] = []
    while True:
        while pgconn.is_busy():
            yield Wait.R
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            groups.append(group)
            group = []
        elif result.status == pq.ExecStatus.PIPELINE_SYNC:
            return groups
        else:
            group.append(result)


def _answers(state: _Prepared, tx: abc.Transformer, kinds: list[bytes | None],
             preparing: dict[bytes, tuple[bytes, tuple[int, ...]]], groups: list[list[pq.abc.PGresult]],
             encoding: str) -> tuple[list[Answer], tuple[psycopg.Error, int] | None]:
    """The statements' answers, and the first error with its statement's index (the prepared names
    are noted either way: a prepared statement outlives a rolled-back transaction)."""
    answers: list[Answer] = []
    refused: tuple[psycopg.Error, int] | None = None
    statement = 0
    for kind, group in zip(kinds, groups, strict=True):
        result = group[-1]
        status = result.status
        if status == pq.ExecStatus.FATAL_ERROR:
            if refused is None:
                refused = psycopg.errors.error_from_result(result, encoding=encoding), statement
        elif status == pq.ExecStatus.PIPELINE_ABORTED:
            pass  # after the error: not run
        elif kind is not None:
            state.names[preparing[kind]] = kind
        elif refused is None:
            answers.append(_answer(tx, result))
        if kind is None:
            statement += 1
    return answers, refused


def _answer(tx: abc.Transformer, result: pq.abc.PGresult) -> Answer:
    if result.status != pq.ExecStatus.TUPLES_OK:
        tuples = result.command_tuples
        return Answer(-1 if tuples is None else tuples, [])
    names = [(result.fname(i) or b"").decode() for i in range(result.nfields)]
    tx.set_pgresult(result)
    rows: list[tuple[Any, ...]] = tx.load_rows(0, result.ntuples, tuple)  # the driver's fast path
    return Answer(result.ntuples, [dict(zip(names, row, strict=False)) for row in rows])
