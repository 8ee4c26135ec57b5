"""Several nodes: each node's heartbeat lease, and a survivor releasing a node whose lease expired.

Every node of a multi-node centre (setting ``node_id``, ``SqlStore`` on PostgreSQL) renews its lease in
``acd_nodes`` from its tick loop: alive until now + ``lease_seconds`` (ACD clock: epoch seconds, the
nodes share one timeline), renewed every third of that. On the same beat it looks for other nodes whose
lease has expired. A node that died (``kill -9``, its machine lost) took its callers' channels with it,
but the shared store still has its callers waiting, agents ringing for them and agents on calls it
answered. The first survivor to see the lease expired releases it, in one transaction locking every
queue (the lease row is deleted in it, so only one survivor does):

- each waiting call the node queued is abandoned (an offer for it ends, its agent is ready again and
  takes the next call it fits);
- each agent on a call the node answered (``acd_agents.node``) ends the call: wrap-up, then ready;

then ``on_lost(node)`` closes the node's open call rows (the service: disposition ``node_lost``). A
node that comes back renews its lease and starts again from what the store holds.

The lease row also carries the node's ``web_url`` (``RuntimeOptions.node_url``): ``holder_of`` tells the
HTTP app which other node holds an agent's call, so that a desk control sent here is forwarded there.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import acd
from acd.live.inflight import EpochClock
from acd.live.worker import EngineWorker
from acd.sql_store import SqlStore
from ivr_engine.logs import fields

__all__ = ["NodeAddress", "NodeLease", "NodeLost", "release_node"]

log = logging.getLogger(__name__)

NodeLost = Callable[[str], Awaitable[object]]


@dataclass(frozen=True)
class NodeAddress:
    """Another node of the centre and where its HTTP app answers."""

    node: str
    web_url: str


def release_node(engine: acd.Acd, store: SqlStore, node: str, now: float) -> list[acd.AcdEvent] | None:
    """Release ``node`` if its lease had expired at ``now``: its events; ``None`` if it was not (still)
    expired (it came back, or another node released it first). Runs on the engine's thread."""
    with store.transaction(acd.EVERY_QUEUE):
        if not store.take_expired_lease(node, now):
            return None
        events: list[acd.AcdEvent] = []
        calls = [c for c in (store.call(i) for i in store.calls_of_node(node)) if c is not None]
        for call in sorted(calls, key=lambda c: c.offered_to is not None):  # the ringing last: an agent
            events += engine.abandon(call.id, now)  # freed takes a waiting call, not one of the dead node
        for agent in store.agents_on_calls_of(node):
            events += engine.end_call(agent.id, now)
        return events


class NodeLease:
    def __init__(self, worker: EngineWorker, store: SqlStore, *, node: str, lease_seconds: float,
                 clock: EpochClock, on_lost: NodeLost | None = None, web_url: str | None = None) -> None:
        self._worker = worker
        self._store = store
        self._node = node
        self._web_url = web_url
        self._seconds = lease_seconds
        self._clock = clock
        self._on_lost = on_lost
        self._due = float("-inf")

    async def renew(self) -> None:
        """Renew this node's lease now (at start: a node back in time keeps its calls for its recovery)."""
        store, node, until, url = self._store, self._node, self._clock() + self._seconds, self._web_url
        await self._worker.query(lambda _: store.renew_lease(node, until, url))

    async def holder_of(self, agent_id: str) -> NodeAddress | None:
        """The other node holding ``agent_id``'s call, if it gave its HTTP address; None when this node
        holds it or nobody does."""
        store = self._store
        found = await self._worker.query(lambda _: store.agent_node(agent_id))
        if found is None or found[0] == self._node or not found[1]:
            return None
        return NodeAddress(found[0], found[1])

    async def beat(self) -> None:
        """Renew this node's lease when a third of it has passed; release the nodes whose lease expired."""
        now = self._clock()
        if now < self._due:
            return
        store, node, until, url = self._store, self._node, now + self._seconds, self._web_url

        def renew(_: acd.Acd) -> list[str]:
            store.renew_lease(node, until, url)
            return store.expired_nodes(now, besides=node)

        expired = await self._worker.query(renew)
        self._due = now + self._seconds / 3
        for lost in expired:
            await self._release(lost, now)

    async def _release(self, lost: str, now: float) -> None:
        released: list[bool] = []

        def release(engine: acd.Acd) -> list[acd.AcdEvent]:
            events = release_node(engine, self._store, lost, now)
            released.append(events is not None)
            return events or []

        try:
            events = await self._worker.act(release)
        except acd.AcdError as exc:  # StoreError included: the next beat tries again
            log.warning(fields("acd.node.release_failed", node=lost, error=str(exc)))
            return
        if not released or not released[0]:
            return
        log.warning(fields("acd.node.lost", node=lost, events=len(events)))
        if self._on_lost is not None:
            try:
                await self._on_lost(lost)
            except Exception as exc:
                log.warning(fields("acd.node.close_calls_failed", node=lost, error=str(exc)))
