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

from sqlalchemy import Connection, Executable, Table
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from acd.errors import OfferConflict
from acd.model import Agent, AgentState, Offer, WaitingCall
from acd.sql_batch import Write, send
from acd.sql_codec import agent_values
from acd.sql_engine import make_engine, store_error
from acd.sql_queries import SQL, upsert_statement
from acd.sql_tables import AGENTS
from acd.store import EVERY_QUEUE

__all__ = ["CHANGES_CHANNEL", "SqlSession"]

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
    """Ready agents per skill (``None``: all of them), read at once; dropped when an agent is saved."""
    agent_count: int | None = None
    """Every agent; dropped when an agent is added."""
    pending: dict[str, Agent] = field(default_factory=dict)
    """Agents saved but not written yet (``SqlStore.save_agent``)."""
    deferred: list[Write] = field(default_factory=list)
    """PostgreSQL: other writes not sent yet (``acd.sql_batch``)."""


class SqlSession:
    """The transactions, the records read in them and the writes kept back of a ``SqlStore``."""

    def __init__(self, url: str, *, node: str | None = None) -> None:
        self.url = url
        self.node = node
        self.engine = make_engine(url)
        self._postgres = self.engine.dialect.name == "postgresql"
        self._local = threading.local()
        self._recorded: dict[str, int] = {}
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
                self._local.conn, self._local.seen = conn, _Seen()
                try:
                    self._lock_queues(conn, queues)
                    yield
                    # the notification is delivered at commit, never on rollback
                    self._flush(conn, notify=self._postgres and self._local.seen.changed)
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
        if EVERY_QUEUE in queues:
            conn.execute(SQL.lock_every_queue)
            return
        conn.execute(SQL.share_every_queue)
        for queue in sorted(set(queues)):
            conn.execute(SQL.lock_queue, {"queue": queue})

    def _seen(self) -> _Seen | None:
        """The records of the current transaction; ``None`` outside one (each call then reads afresh)."""
        seen: _Seen | None = getattr(self._local, "seen", None)
        return seen

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        current: Connection | None = getattr(self._local, "conn", None)
        if current is not None:
            seen: _Seen = self._local.seen
            if seen.pending or seen.deferred:  # what was saved so far is written before anything else
                self._flush(current)
            yield current
            return
        with self.transaction():
            yield self._local.conn

    def _rows(self, stmt: Executable, **params: Any) -> list[Any]:
        with self._connection() as conn:
            return list(conn.execute(stmt, params).mappings())

    def _scalar(self, stmt: Executable, **params: Any) -> Any:
        with self._connection() as conn:
            return conn.execute(stmt, params).scalar()

    def _write(self, stmt: Executable, params: dict[str, Any] | list[dict[str, Any]]) -> int:
        with self._connection() as conn:
            return int(conn.execute(stmt, params).rowcount)

    def _upsert(self, table: Table, keys: tuple[str, ...], values: dict[str, Any],
                keep: tuple[str, ...] = ()) -> None:
        with self._connection() as conn:
            conn.execute(upsert_statement(conn.dialect.name, table, keys, keep), values)

    def _flush(self, conn: Connection, *, notify: bool = False) -> None:
        """Write the agents saved and the writes kept back (PostgreSQL: in one round trip), and with
        ``notify`` tell the other nodes (delivered at commit)."""
        seen: _Seen = self._local.seen
        agents, seen.pending = list(seen.pending.values()), {}
        kept, seen.deferred = seen.deferred, []
        message = Write(SQL.notify, {"channel": CHANGES_CHANNEL, "payload": self.node or ""})
        if not kept:
            for agent in agents:
                self._write_agent(conn, agent)
            if notify:
                conn.execute(message.stmt, message.params)
            return
        batch = [Write(SQL.update_agent_same_skills, _agent_update(agent)) for agent in agents]
        batch += kept + ([message] if notify else [])
        self.batches[0] += 1
        self.batches[1] += len(batch)
        try:
            counts = send(conn, batch)
        except IntegrityError as exc:
            offer = next((w.offer for w in kept if w.offer is not None), None)
            if offer is None:
                raise
            raise OfferConflict(*offer) from exc
        for agent, count in zip(agents, counts, strict=False):
            self._write_agent(conn, agent, updated=count == 1)

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
        if on_call and self.node is not None:  # the node answering holds the call; a later save keeps it
            conn.execute(SQL.claim_agent_node, {"agent_id": agent.id, "node": self.node})

    def _keep_back(self, write: Write) -> bool:
        """On PostgreSQL in a transaction, ``write`` is sent with the next batch (``_flush``)."""
        seen = self._seen()
        if not self._postgres or seen is None:
            return False
        seen.deferred.append(write)
        return True


def _agent_update(agent: Agent) -> dict[str, Any]:
    """The parameters of ``SQL.update_agent_same_skills`` for ``agent`` (``node`` cleared off a call)."""
    values = agent_values(agent)
    if agent.state is not AgentState.ON_CALL:
        values["node"] = None
    changed = {k: v for k, v in values.items() if k != "id"}
    return {**changed, "agent_id": agent.id, "same_skills": values["skills"]}
