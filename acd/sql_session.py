"""The transaction machinery of ``acd.sql_store.SqlStore``: transactions and their locks, the records a
transaction has read or written (``_Seen``), and the writes kept back until the next statement or the
commit (agents coalesced; on PostgreSQL everything in one batch, ``acd.sql_batch``). See ``acd.sql_store``
for what a transaction guarantees.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import Connection, Executable, Table, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from acd.errors import OfferConflict
from acd.model import Agent, AgentState, Offer, WaitingCall
from acd.sql_batch import Write, run
from acd.sql_codec import agent_values
from acd.sql_engine import make_engine, store_error
from acd.sql_pools import SQL_POOLS, reckon_agent
from acd.sql_queries import SQL, upsert_statement
from acd.sql_tables import AGENTS
from acd.store import EVERY_QUEUE

__all__ = ["CHANGES_CHANNEL", "SqlSession"]

_COMMIT = text("COMMIT")
_BEGIN = text("BEGIN")

CHANGES_CHANNEL = "acd_changed"
"""The PostgreSQL ``NOTIFY`` channel of committed ACD changes; the payload is the writing node's id."""


@dataclass
class _Seen:
    """What the current transaction has read or written, by key: asked again, it costs no round trip.

    Every read of a record refreshes its entry, every write sets it; dropped when the transaction ends."""

    agents: dict[str, Agent] = field(default_factory=dict)
    calls: dict[str, WaitingCall | None] = field(default_factory=dict)
    offers: dict[str, Offer | None] = field(default_factory=dict)
    changed: bool = False
    """An agent, call or offer was written: other nodes are told at commit (PostgreSQL)."""
    ready_counts: dict[str | None, int] | None = None
    """Ready agents per skill (``None``: all of them), read at once; moved by each agent saved whose
    previous record is known, else dropped (``count_ready``)."""
    agent_count: int | None = None
    """Every agent; dropped when an agent is added."""
    pending: dict[str, Agent] = field(default_factory=dict)
    """Agents saved but not written yet (``SqlStore.save_agent``)."""
    was: dict[str, Agent] = field(default_factory=dict)
    """The agents as the database has them now, as far as known: read, or written by this transaction
    (``acd.sql_ahead``)."""
    deferred: list[Write] = field(default_factory=list)
    """PostgreSQL: other writes not sent yet (``acd.sql_batch``)."""
    locks: list[Write] = field(default_factory=list)
    """PostgreSQL: the advisory locks to take, sent first in the next round trip."""
    begin: bool = False
    """PostgreSQL: the transaction's ``BEGIN`` is still to be sent, first in the next round trip."""
    stored: dict[str, str] = field(default_factory=dict)
    """The skills (as stored) of the agents read or written: a save with the same ones is one sure
    ``UPDATE``."""
    pools: list[str] | None = None
    """The tracked pools (``acd.sql_pools``), read when an agent is first written anew."""
    route: list[str] | None = None
    """PostgreSQL: the queues whose heads the operation may look for (``SqlStore.will_route``): read
    with the next read, with the ready counts if not known."""
    heads: tuple[list[str], list[Any]] | None = None
    """The heads read so (queues, rows), until a call is written."""


class SqlSession:
    """The transactions, the records read in them and the writes kept back of a ``SqlStore``."""

    def __init__(self, url: str, *, node: str | None = None) -> None:
        self.url = url
        self.node = node
        self.engine = make_engine(url)
        self._postgres = self.engine.dialect.name == "postgresql"
        self._local = threading.local()
        self._recorded: dict[str, int] = {}
        self._tracked: set[str] = set()
        """Keys of pools found tracked (``acd.sql_pools``): their counts are read, not counted."""
        self.batches = [0, 0]
        """Batches sent (``acd.sql_batch``) and the statements in them, for the benchmark."""

    def __repr__(self) -> str:
        return f"SqlStore({self.engine.url.render_as_string(hide_password=True)})"

    def close(self) -> None:
        self.engine.dispose()

    # transactions

    @contextmanager
    def transaction(self, *queues: str) -> Iterator[None]:
        """One database transaction around everything inside; on PostgreSQL, ``queues`` locked first.

        Re-entrant: an inner ``transaction`` joins the outer one (and locks its queues too).
        """
        current: Connection | None = getattr(self._local, "conn", None)
        if current is not None:
            self._lock_queues(current, queues)
            yield
            return
        try:
            with self.engine.begin() as conn:
                self._local.conn, self._local.seen = conn, _Seen(begin=self._postgres and _own_begin(conn))
                try:
                    self._lock_queues(conn, queues)
                    yield
                    # the notification is delivered at commit, never on rollback
                    self._flush(conn, notify=self._postgres and self._local.seen.changed, commit=True)
                finally:
                    self._local.conn, self._local.seen = None, None
        except SQLAlchemyError as exc:
            error = store_error(exc, self.url)
            if error is None:
                raise
            raise error from exc

    def _lock_queues(self, conn: Connection, queues: tuple[str, ...]) -> None:
        """``EVERY_QUEUE``: the one "every queue" lock, exclusive. Named queues: that lock shared, then
        each queue's own in name order. Always in this order, so two transactions never deadlock."""
        if not self._postgres or not queues:
            return
        locks: list[Write] = self._local.seen.locks  # sent before anything else (``_send``)
        if EVERY_QUEUE in queues:
            locks.append(Write(SQL.lock_every_queue, {}))
            return
        locks.append(Write(SQL.share_every_queue, {}))
        locks.extend(Write(SQL.lock_queue, {"queue": queue}) for queue in sorted(set(queues)))

    def _seen(self) -> _Seen | None:
        """The records of the current transaction; ``None`` outside one (each call then reads afresh)."""
        seen: _Seen | None = getattr(self._local, "seen", None)
        return seen

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        current: Connection | None = getattr(self._local, "conn", None)
        if current is not None:
            seen: _Seen = self._local.seen
            if seen.pending or seen.deferred or seen.locks or seen.begin:  # written before anything else
                self._flush(current)
            yield current
            return
        with self.transaction():
            yield self._local.conn

    def _rows(self, stmt: Executable, **params: Any) -> list[Any]:
        return self._read(Write(stmt, params))[0]

    def _scalar(self, stmt: Executable, **params: Any) -> Any:
        rows = self._rows(stmt, **params)
        return next(iter(rows[0].values())) if rows else None

    def _read(self, *reads: Write, before_saves: bool = False) -> list[list[Any]]:
        """The rows of each of ``reads`` (mappings). On PostgreSQL in a transaction, they go in one round
        trip together with the locks and the writes not sent yet (before them, so they see them);
        ``before_saves``: but not the agents saved, which stay back (the caller accounts for them,
        ``acd.sql_ahead``)."""
        seen = self._seen()
        if self._postgres and seen is not None:
            route, seen.route = seen.route, None
            if route is None:
                return self._send(self._local.conn, list(reads), before_saves=before_saves)
            ahead = [Write(SQL.heads_of_postgres, {"queues": route})]
            if seen.ready_counts is None:
                ahead.append(Write(SQL.ready_counts, {}))
            rows = self._send(self._local.conn, [*reads, *ahead], before_saves=before_saves)
            seen.heads = (route, rows[len(reads)])
            if len(ahead) == 2:
                keep_ready_counts(seen, rows[-1])
            return rows[:len(reads)]
        with self._connection() as conn:
            return [list(conn.execute(read.stmt, read.params).mappings()) for read in reads]

    def _write(self, stmt: Executable, params: dict[str, Any] | list[dict[str, Any]]) -> int:
        with self._connection() as conn:
            return int(conn.execute(stmt, params).rowcount)

    def _upsert(self, table: Table, keys: tuple[str, ...], values: dict[str, Any],
                keep: tuple[str, ...] = ()) -> None:
        with self._connection() as conn:
            conn.execute(upsert_statement(conn.dialect.name, table, keys, keep), values)

    def _flush(self, conn: Connection, *, notify: bool = False, commit: bool = False) -> None:
        """Write the agents saved and the writes kept back (PostgreSQL: in one round trip), and with
        ``notify`` tell the other nodes (delivered at commit). ``commit``: the transaction ends next
        (on PostgreSQL its ``COMMIT`` may go in that round trip)."""
        if self._postgres:
            self._send(conn, [], notify=notify, commit=commit)
            return
        seen: _Seen = self._local.seen
        agents, seen.pending = list(seen.pending.values()), {}
        for agent in agents:
            self._write_agent(conn, agent)

    def _send(self, conn: Connection, reads: list[Write], *, notify: bool = False,
              commit: bool = False, before_saves: bool = False) -> list[list[Any]]:
        """PostgreSQL: the locks, the agents saved, the writes kept back, with ``notify`` the change
        notification, then ``reads``, in one round trip (``acd.sql_batch``); the rows of ``reads``.

        ``commit`` (the transaction's last round trip): ``COMMIT`` goes in it too when every agent
        saved is known stored with the same skills, so that its ``UPDATE`` cannot miss (a missed one
        is written anew after the batch, which must then still be inside the transaction)."""
        seen: _Seen = self._local.seen
        agents: list[Agent] = []
        if not before_saves:
            agents, seen.pending = list(seen.pending.values()), {}
        kept, seen.deferred = seen.deferred, []
        batch, seen.locks = seen.locks, []
        updates: list[int] = []
        values = [_agent_update(agent) for agent in agents]
        for agent, update in zip(agents, values, strict=True):
            updates.append(len(batch))
            batch.append(Write(SQL.update_agent_same_skills, update))
            if agent.state is AgentState.ON_CALL and self.node is not None:
                batch.append(Write(SQL.claim_agent_node, {"agent_id": agent.id, "node": self.node}))
        batch += kept
        if notify:
            batch.append(Write(SQL.notify, {"channel": CHANGES_CHANNEL, "payload": self.node or ""}))
        first_read = len(batch)
        batch += reads
        if not batch and not (seen.begin and not commit):  # (a statement of SQLAlchemy's follows)
            return []
        begin, seen.begin = seen.begin, False
        committed = commit and all(seen.stored.get(a.id) == v["same_skills"] for a, v in zip(agents, values,
                                                                                           strict=True))
        if committed:  # psycopg then finds the transaction over: SQLAlchemy's commit sends nothing
            batch.append(Write(_COMMIT, {}))
        self.batches[0] += 1
        self.batches[1] += len(batch)
        if begin:
            batch.insert(0, Write(_BEGIN, {}))
            first_read += 1
            updates = [i + 1 for i in updates]
        try:
            cursors = run(conn, batch)
        except IntegrityError as exc:
            offer = next((w.offer for w in kept if w.offer is not None), None)
            if offer is None:
                raise
            raise OfferConflict(*offer) from exc
        if committed:  # over: whatever follows (see below) is a transaction of the driver's own
            _driver(conn).autocommit = False
        rewritten = [agent for agent, i in zip(agents, updates, strict=True) if cursors[i].rowcount != 1]
        for agent in rewritten:  # new, or its skills changed (after a COMMIT sent: changed meanwhile by
            # another transaction; then written in a transaction of its own): its rows written anew
            self._write_agent(conn, agent, updated=False)
        seen.stored.update((a.id, v["same_skills"]) for a, v in zip(agents, values, strict=True))
        seen.was.update((a.id, a) for a in agents)
        if rewritten and reads:  # they ran before that: again
            return [list(conn.execute(read.stmt, read.params).mappings()) for read in reads]
        return [answer.rows for answer in cursors[first_read:first_read + len(reads)]]

    def _write_agent(self, conn: Connection, agent: Agent, *, updated: bool | None = None) -> None:
        """``updated``: the ``UPDATE`` was already sent (and found the agent with the same skills)."""
        on_call = agent.state is AgentState.ON_CALL
        if updated is None:
            updated = conn.execute(SQL.update_agent_same_skills, _agent_update(agent)).rowcount == 1
        if not updated:
            values = agent_values(agent)
            if not on_call:
                values["node"] = None
            conn.execute(SQL.delete_agent_skills, {"agent_id": agent.id})
            upsert = upsert_statement(conn.dialect.name, AGENTS, ("id",), ("node",) if on_call else ())
            conn.execute(upsert, values)
            if agent.skills:
                conn.execute(SQL.insert_agent_skill, [
                    {"agent_id": agent.id, "skill": skill, "level": level}
                    for skill, level in sorted(agent.skills.items())
                ])
            seen: _Seen = self._local.seen
            if seen.pools is None:
                seen.pools = [str(row.pool) for row in conn.execute(SQL_POOLS.pools)]
            reckon_agent(conn, agent, seen.pools)
        if on_call and self.node is not None:  # the node answering holds the call; a later save keeps it
            conn.execute(SQL.claim_agent_node, {"agent_id": agent.id, "node": self.node})

    def _keep_back(self, write: Write) -> bool:
        """On PostgreSQL in a transaction, ``write`` is sent with the next batch (``_flush``)."""
        seen = self._seen()
        if not self._postgres or seen is None:
            return False
        seen.deferred.append(write)
        return True


def keep_ready_counts(seen: _Seen, rows: list[Any]) -> None:
    """The rows of ``SQL.ready_counts`` kept in ``seen`` (ready agents per skill, and every agent)."""
    counts: dict[str | None, int] = {}
    for row in rows:
        if row["ready"]:
            counts[row["skill"]] = int(row["agents"])
        else:
            seen.agent_count = int(row["agents"])
    seen.ready_counts = counts


def count_ready(seen: _Seen, before: Agent | None, after: Agent) -> None:
    """``seen``'s ready counts after an agent save: moved by the difference if the agent's previous
    record is known, else dropped (read again when asked)."""
    counts = seen.ready_counts
    if counts is None:
        return
    if before is None:
        seen.ready_counts = None
        return
    for agent, delta in ((before, -1), (after, 1)):
        if agent.state is AgentState.READY:
            for skill in (None, *agent.skills):
                counts[skill] = counts.get(skill, 0) + delta


def _driver(conn: Connection) -> psycopg.Connection[Any]:
    driver: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    return driver


def _own_begin(conn: Connection) -> bool:
    """PostgreSQL: the transaction's ``BEGIN`` goes in its first batch instead of a round trip of its
    own (psycopg begins a transaction by itself, waiting for the answer, even in a pipeline): the
    driver connection is put in autocommit for the transaction, so it begins none, and the store
    sends ``BEGIN`` first. Back to the driver's own when the ``COMMIT`` goes in a batch, or when the
    connection goes back to the pool (``acd.sql_engine``)."""
    driver = _driver(conn)
    if driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return False  # already in one (nothing to begin)
    driver.autocommit = True
    return True


def _agent_update(agent: Agent) -> dict[str, Any]:
    """The parameters of ``SQL.update_agent_same_skills`` for ``agent`` (``node`` cleared off a call)."""
    values = agent_values(agent)
    if agent.state is not AgentState.ON_CALL:
        values["node"] = None
    changed = {k: v for k, v in values.items() if k != "id"}
    return {**changed, "agent_id": agent.id, "same_skills": values["skills"]}
