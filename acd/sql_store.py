"""``AcdStore`` in a database through SQLAlchemy Core: SQLite (one node) or PostgreSQL (several nodes).

The ACD's state then survives a restart of the service, and on PostgreSQL several service nodes share
it. Tables: ``acd.sql_tables`` (created by ``ivr db init``, migration 0005). Every method answers with
one or two statements on the indexes there; nothing is cached in the process beyond a transaction, so
a second store on the same database (after a restart, or on another node) sees exactly the same state.

Transactions. ``transaction(*queues)`` runs everything inside it in one database transaction, committed
at the end and rolled back on any exception; ``Acd`` runs each of its operations in one. A method
called outside any transaction runs in its own. On PostgreSQL, ``transaction(EVERY_QUEUE)`` first takes
(with its first statement, in the same round trip, before it) one "every queue" advisory lock,
exclusive; ``transaction(*queues)`` takes it shared, then
``pg_advisory_xact_lock(hashtext(queue))`` for each named queue in name order (always in this order, so
two nodes never deadlock): routing operations serialise across nodes, call arrivals in different queues
do not wait for each other. ``ready_agents`` selects ``FOR UPDATE SKIP LOCKED``: two nodes routing at
once never pick the same ready agent. The uniqueness constraints of ``acd_offers`` make the database
itself refuse a second offer for an agent or a call (``OfferConflict``; the transaction is then spoilt
and must be rolled back). On SQLite every transaction starts with ``BEGIN IMMEDIATE``
(``acd.sql_engine``).

Writes. Within a transaction an agent saved is written when the transaction sends its next statement
or commits (saves of one agent in between are one write); on PostgreSQL the offers, waiting calls,
round-robin cursors and handle times saved or removed wait too and go with the agents, ahead of the
next read (or with the ``COMMIT``), in one batch (``acd.sql_session``, ``acd.sql_batch``: one round
trip), so a refused offer raises ``OfferConflict`` from that next statement or the commit, still
inside the operation. Reads always answer with every earlier write of the transaction in. Reads that
routing asks for together go in one round trip too (``will_route``: the heads and ready counts with the
next read; ``heads_of`` with the ready counts; ``routing_reads``, which goes ahead of the agents saved
and sets its answers right for them, ``acd.sql_ahead``, so an agent made ready and then offered a call
is written once). A tracked pool's counts are read from the tables the database keeps up to date
(``acd.sql_pools``), not counted.

Blocking. The store is synchronous, like the engine that calls it: every method waits for the
database. The live service must therefore call the engine off the event loop, from one worker thread
(``asyncio.to_thread`` on a one-thread executor), never from a coroutine directly. A store's current
transaction is per thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.exc import IntegrityError

from acd.errors import OfferConflict, UnknownCall
from acd.model import Agent, AgentState, Offer, PoolCounts, Skills, WaitingCall
from acd.sql_ahead import counts_after, nearest_after, readable_ahead, ready_after, without
from acd.sql_batch import Write
from acd.sql_codec import agent_from, call_from, call_values, offer_from, offer_values
from acd.sql_pools import SQL_POOLS, counted_from, counts_from, pool_key, track
from acd.sql_queries import (
    HANDLE_TIMES_KEPT,
    HANDLE_TIMES_PRUNED_EVERY,
    SQL,
    nearest_passed_query,
    pool_counts_query,
    pool_params,
    upsert_statement,
)
from acd.sql_session import CHANGES_CHANNEL, SqlSession, count_ready, keep_ready_counts
from acd.sql_tables import NODES, RR_CURSORS, WAITING_CALLS

__all__ = ["CHANGES_CHANNEL", "HANDLE_TIMES_KEPT", "HANDLE_TIMES_PRUNED_EVERY", "SqlStore"]

_SEQ = "seq"


class SqlStore(SqlSession):
    """``AcdStore`` over the database at ``url``; ``node`` is stamped on the calls this store queues."""

    # agents

    def agent(self, agent_id: str) -> Agent | None:
        seen = self._seen()
        if seen is not None and agent_id in seen.agents:
            return seen.agents[agent_id]
        found = self._agents(SQL.agent, id=agent_id)
        return found[0] if found else None

    def _agents(self, stmt: Executable, **params: Any) -> list[Agent]:
        return self._keep_agents(self._rows(stmt, **params))

    def _keep_agents(self, rows: list[Any]) -> list[Agent]:
        agents = [agent_from(row) for row in rows]
        seen = self._seen()
        if seen is not None:
            seen.stored.update((row["id"], row["skills"]) for row in rows)
            seen.agents.update((a.id, a) for a in agents)
            seen.was.update((a.id, a) for a in agents)
        return agents

    def agents(self) -> list[Agent]:
        return self._agents(SQL.agents)

    def agent_count(self) -> int:
        seen = self._seen()
        if seen is not None and seen.agent_count is not None:
            return seen.agent_count
        count = int(self._scalar(SQL.agent_count))
        if seen is not None:
            seen.agent_count = count
        return count

    def agents_in_state(self, state: AgentState) -> list[Agent]:
        return self._agents(SQL.agents_in_state, state=state.value)

    def agents_with_skill(self, skill: str) -> list[Agent]:
        return self._agents(SQL.agents_with_skill, skill=skill)

    def ready_agents(self, skill: str | None) -> list[Agent]:
        """On PostgreSQL the rows are locked for this transaction, and rows another one holds skipped."""
        return self._agents(self._ready_agents_stmt(skill), skill=skill)

    def _ready_agents_stmt(self, skill: str | None) -> Executable:
        if self._postgres:
            return SQL.ready_agents_locked if skill is None else SQL.ready_agents_with_skill_locked
        return SQL.ready_agents if skill is None else SQL.ready_agents_with_skill

    def ready_count(self, skill: str | None) -> int:
        """In a transaction, one query counts the ready agents of every skill (and every agent), kept
        and moved by the transaction's own agent saves: finding a call's rarest skill asks once."""
        seen = self._seen()
        if seen is None:
            if skill is None:
                return int(self._scalar(SQL.ready_count))
            return int(self._scalar(SQL.ready_count_with_skill, skill=skill))
        if seen.ready_counts is None:
            keep_ready_counts(seen, self._rows(SQL.ready_counts))
        assert seen.ready_counts is not None
        return seen.ready_counts.get(skill, 0)

    def will_route(self, queues: Sequence[str]) -> None:
        """On PostgreSQL in a transaction, the heads of ``queues`` (and the ready counts) are read with
        the next read, which saves ``heads_of`` a round trip of its own."""
        seen = self._seen()
        if self._postgres and seen is not None and seen.heads is None:
            seen.route = list(queues)

    def routing_reads(self, rarest: str | None, required: Skills,
                      limit: int) -> tuple[list[Agent], PoolCounts, list[Agent]]:
        """``ready_agents``, ``pool_counts`` and ``nearest_passed`` in one round trip (PostgreSQL), ahead
        of the agents saved but not written yet when it can (``acd.sql_ahead``)."""
        seen = self._seen()
        pending = list(seen.pending.values()) if self._postgres and seen is not None else []
        ahead = seen is not None and seen.route is None and readable_ahead(pending, seen.was, seen.stored)
        ready, counts, nearest = self._read(
            Write(self._ready_agents_stmt(rarest), {"skill": rarest}),
            self._pool_counts_read(required),
            Write(nearest_passed_query(len(required)),
                  {"limit": limit + len(pending) * ahead, **pool_params(required)}),
            before_saves=ahead,
        )
        if not ahead or seen is None:
            return self._keep_agents(ready), self._pool_counts(required, counts), self._keep_agents(nearest)
        again = pool_key(required) in self._tracked and counts_from(counts) is None  # (read after them)
        pool = self._pool_counts(required, counts)
        return (ready_after(self._keep_agents(without(ready, pending)), pending, rarest),
                pool if again else counts_after(pool, pending, seen.was, required),
                nearest_after(self._keep_agents(without(nearest, pending)), pending, required, limit))

    def track_pools(self, requirements: Iterable[Skills]) -> None:
        """Keep the counts of these pools in tables from now on (``acd.sql_pools``)."""
        with self.transaction(), self._connection() as conn:
            self._tracked |= track(conn, self._postgres, requirements, self.agents)

    def pool_counts(self, required: Skills) -> PoolCounts:
        return self._pool_counts(required, self._read(self._pool_counts_read(required))[0])

    def _pool_counts_read(self, required: Skills) -> Write:
        """A tracked pool's counts are read from its rows, any other pool is counted."""
        if pool_key(required) in self._tracked:
            return Write(SQL_POOLS.counts, {"pool": pool_key(required)})
        return Write(pool_counts_query(len(required)), pool_params(required))

    def _pool_counts(self, required: Skills, rows: list[Any]) -> PoolCounts:
        key = pool_key(required)
        if key not in self._tracked:
            return counted_from(rows)
        counts = counts_from(rows)
        if counts is not None:
            return counts
        self._tracked.discard(key)  # no rows: the tables were emptied behind the store's back
        return self.pool_counts(required)

    def nearest_passed(self, required: Skills, limit: int) -> list[Agent]:
        return self._agents(nearest_passed_query(len(required)), limit=limit, **pool_params(required))

    def save_agent(self, agent: Agent) -> None:
        """Written when the transaction sends its next statement or commits: saves of the same agent in
        between are one write (a call ended, wrap-up over and a new offer: one ``UPDATE``). The write is
        one ``UPDATE`` when the agent exists with the same skills, else its rows are written anew."""
        seen = self._seen()
        if seen is None:
            with self.transaction():
                self.save_agent(agent)
            return
        pending = seen.pending.get(agent.id)
        on_call = agent.state is AgentState.ON_CALL
        if pending is not None and (pending.state is AgentState.ON_CALL) != on_call:
            self._flush(self._local.conn)  # on a call or not: the node column is handled apart
        before = seen.agents.get(agent.id)
        if before is None:
            seen.agent_count = None  # perhaps a new agent
        count_ready(seen, before, agent)
        seen.agents[agent.id] = agent  # the transaction is rolled back, and this dropped, if it fails
        seen.pending[agent.id] = agent
        seen.changed = True

    # waiting calls

    def call(self, call_id: str) -> WaitingCall | None:
        seen = self._seen()
        if seen is not None and call_id in seen.calls:
            return seen.calls[call_id]
        found = self._calls(SQL.call, call_id=call_id)
        if seen is not None and not found:
            seen.calls[call_id] = None
        return found[0] if found else None

    def save_call(self, call: WaitingCall) -> None:
        """Insert (stamped with this store's node), or update in place keeping the owning node."""
        self._set_seen_call(call.id, call)
        values = {**call_values(call), "node": self.node}
        upsert = upsert_statement(self.engine.dialect.name, WAITING_CALLS, ("call_id",), ("node",))
        if not self._keep_back(Write(upsert, values)):
            self._upsert(WAITING_CALLS, ("call_id",), values, keep=("node",))

    def remove_call(self, call_id: str) -> None:
        self._set_seen_call(call_id, None)
        if not self._keep_back(Write(SQL.delete_call, {"call_id": call_id})):
            self._write(SQL.delete_call, {"call_id": call_id})

    def _set_seen_call(self, call_id: str, call: WaitingCall | None) -> None:
        seen = self._seen()
        if seen is not None:
            seen.calls[call_id] = call
            seen.changed = True
            seen.heads = None

    def _calls(self, stmt: Executable, **params: Any) -> list[WaitingCall]:
        return self._keep_calls(self._rows(stmt, **params))

    def _keep_calls(self, rows: list[Any]) -> list[WaitingCall]:
        calls = [call_from(row) for row in rows]
        seen = self._seen()
        if seen is not None:
            seen.calls.update((c.id, c) for c in calls)
        return calls

    def waiting(self, queue: str) -> list[WaitingCall]:
        return self._calls(SQL.waiting, queue=queue)

    def heads(self, queue: str) -> list[WaitingCall]:
        return self._calls(SQL.heads, queue=queue)

    def heads_of(self, queues: Sequence[str]) -> list[WaitingCall]:
        """On PostgreSQL in a transaction, the heads read ahead (``will_route``) if no call was written
        since; else read, with the ready counts if not known yet (routing a head asks them next)."""
        if not queues:
            return []
        seen = self._seen()
        if not self._postgres or seen is None:
            return self._calls(SQL.heads_of_postgres if self._postgres else SQL.heads_of, queues=list(queues))
        if seen.heads is None and seen.route == list(queues):
            self._read()  # what will_route asked for, now
        if seen.heads is not None and seen.heads[0] == list(queues):
            return self._keep_calls(seen.heads[1])
        if seen.ready_counts is not None:
            return self._calls(SQL.heads_of_postgres, queues=list(queues))
        heads, counts = self._read(Write(SQL.heads_of_postgres, {"queues": list(queues)}),
                                   Write(SQL.ready_counts, {}))
        keep_ready_counts(seen, counts)
        return self._keep_calls(heads)

    def enqueued_before(self, queue: str, at: float) -> list[WaitingCall]:
        """Only the calls this store's node queued: only the node holding a caller's channel can hand the
        caller on (overflow), so each node's tick overflows its own callers."""
        return self._calls(SQL.enqueued_before, queue=queue, at=at, node=self.node)

    def position(self, call_id: str) -> int:
        position = self._scalar(SQL.position, call_id=call_id)
        if position is None:
            raise UnknownCall(call_id)
        return int(position)

    def node_of(self, call_id: str) -> str | None:
        """The node that queued ``call_id`` (owns its channel); ``None`` on one node or if unknown."""
        node: str | None = self._scalar(SQL.node_of, call_id=call_id)
        return node

    def calls_of_node(self, node: str) -> list[str]:
        """The ids of the waiting calls ``node`` queued (being offered or not), in service order."""
        return [str(row["call_id"]) for row in self._rows(SQL.calls_of_node, node=node)]

    def agents_on_calls_of(self, node: str | None) -> list[Agent]:
        """Agents on a call that ``node`` answered (``None``: on one node, every agent on a call)."""
        return self._agents(SQL.agents_on_calls_of, node=node)

    # node leases (several nodes on PostgreSQL)

    def renew_lease(self, node: str, expires_at: float, web_url: str | None = None) -> None:
        """``node`` is alive until ``expires_at`` (ACD clock), its HTTP app at ``web_url``; not an ACD
        change (no notification)."""
        self._upsert(NODES, ("node",), {"node": node, "expires_at": expires_at, "web_url": web_url})

    def agent_node(self, agent_id: str) -> tuple[str, str | None] | None:
        """The node holding ``agent_id``'s call (it answered it) and that node's ``web_url``, while the
        node has a lease; None when the agent is on no node's call."""
        for row in self._rows(SQL.agent_node, agent=agent_id):
            return str(row["node"]), row["web_url"]
        return None

    def expired_nodes(self, now: float, *, besides: str) -> list[str]:
        """Nodes other than ``besides`` whose lease had expired at ``now``."""
        return [str(row["node"]) for row in self._rows(SQL.expired_nodes, now=now, node=besides)]

    def take_expired_lease(self, node: str, now: float) -> bool:
        """In a transaction: if ``node``'s lease had expired at ``now``, delete it (this transaction now
        releases the node, locking its lease row on PostgreSQL) and return True; else False (it came
        back, or another node released it)."""
        stmt = SQL.expired_lease.with_for_update() if self._postgres else SQL.expired_lease
        if not self._rows(stmt, node=node, now=now):
            return False
        self._write(SQL.drop_lease, {"node": node})
        return True

    # offers

    def offer(self, agent_id: str) -> Offer | None:
        seen = self._seen()
        if seen is not None and agent_id in seen.offers:
            return seen.offers[agent_id]
        rows = self._rows(SQL.offer, agent_id=agent_id)
        offer = offer_from(rows[0]) if rows else None
        if seen is not None:
            seen.offers[agent_id] = offer
        return offer

    def offers(self) -> list[Offer]:
        offers = [offer_from(row) for row in self._rows(SQL.offers)]
        seen = self._seen()
        if seen is not None:
            seen.offers.update((o.agent_id, o) for o in offers)
        return offers

    def save_offer(self, offer: Offer) -> None:
        """Insert only: a second offer for the agent or the call is refused (``OfferConflict``)."""
        values = offer_values(offer)
        if not self._keep_back(Write(SQL.insert_offer, values, (offer.agent_id, offer.call_id))):
            try:
                self._write(SQL.insert_offer, values)
            except IntegrityError as exc:
                raise OfferConflict(offer.agent_id, offer.call_id) from exc
        self._set_seen_offer(offer.agent_id, offer)

    def remove_offer(self, agent_id: str) -> None:
        self._set_seen_offer(agent_id, None)
        if not self._keep_back(Write(SQL.delete_offer, {"agent_id": agent_id})):
            self._write(SQL.delete_offer, {"agent_id": agent_id})

    def _set_seen_offer(self, agent_id: str, offer: Offer | None) -> None:
        seen = self._seen()
        if seen is not None:
            seen.offers[agent_id] = offer
            seen.changed = True

    # counters

    def next_seq(self) -> int:
        value = self._scalar(SQL.bump_counter, counter=_SEQ)
        if value is None:
            self._write(SQL.insert_counter, {"name": _SEQ, "value": 1})
            return 1
        return int(value)

    def rr_cursor(self, queue: str) -> str | None:
        cursor: str | None = self._scalar(SQL.rr_cursor, queue=queue)
        return cursor

    def set_rr_cursor(self, queue: str, agent_id: str) -> None:
        values = {"queue": queue, "agent_id": agent_id}
        upsert = upsert_statement(self.engine.dialect.name, RR_CURSORS, ("queue",))
        if not self._keep_back(Write(upsert, values)):
            self._upsert(RR_CURSORS, ("queue",), values)

    def handle_times(self, queue: str) -> list[float]:
        return [float(row["seconds"]) for row in reversed(self._rows(SQL.handle_times, queue=queue))]

    def record_handle_time(self, queue: str, seconds: float) -> None:
        """Append; at the first and then every ``HANDLE_TIMES_PRUNED_EVERY``-th time this store records
        one for ``queue``, times beyond the last ``HANDLE_TIMES_KEPT`` of the queue are deleted
        (``handle_times`` reads only those anyway)."""
        written = self._recorded.get(queue, 0)
        self._recorded[queue] = written + 1
        writes = [Write(SQL.insert_handle_time, {"queue": queue, "seconds": seconds})]
        if written % HANDLE_TIMES_PRUNED_EVERY == 0:
            writes.append(Write(SQL.prune_handle_times, {"queue": queue}))
        for write in writes:  # on PostgreSQL in a transaction, with the next round trip
            if not self._keep_back(write):
                self._write(write.stmt, write.params)

