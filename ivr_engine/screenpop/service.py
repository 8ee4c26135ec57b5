"""Deliver screen-pops: build one when an agent answers, keep each agent's latest, stream new ones.

The service consumes the ACD runtime's events (:meth:`ScreenPopService.run`); for every ``answered``
event it flushes the node log (so the IVR path just walked is in the database), builds the record in a
worker thread and hands it to the agent's subscribers. A storage failure is logged and that pop is
skipped; it never stops the loop. The latest pops are a cache of what storage holds: after a restart
:meth:`ScreenPopService.restore` rebuilds them from the stored queue facts.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from acd.live.api import RuntimeEvent, RuntimeEventKind
from ivr_engine.flow.ports import NodeEventSink
from ivr_engine.logs import fields
from ivr_engine.screenpop.build import (
    Answered,
    OpenWorkOrders,
    ReturnVisits,
    build_screen_pop,
    last_answered,
)
from ivr_engine.screenpop.model import ScreenPop
from ivr_engine.storage.database import Database, describe_error
from ivr_engine.storage.errors import StorageError

__all__ = ["ScreenPopService", "answered_from"]

log = logging.getLogger(__name__)

SUBSCRIBER_BACKLOG = 16


class ScreenPopService:
    """Builds, remembers and streams screen-pops, one latest record per agent."""

    def __init__(
        self, database: Database, *, node_log: NodeEventSink | None = None, history: int = 5,
        work_orders: OpenWorkOrders | None = None, visits: ReturnVisits | None = None,
    ) -> None:
        self._database = database
        self._work_orders = work_orders
        self._visits = visits
        self._node_log = node_log
        self._history = history
        self._latest: dict[str, ScreenPop] = {}
        self._subscribers: dict[str, set[asyncio.Queue[ScreenPop]]] = defaultdict(set)
        self.failures = 0

    def latest(self, agent_id: str) -> ScreenPop | None:
        return self._latest.get(agent_id)

    async def restore(self, since: datetime) -> int:
        """After a restart: rebuild each agent's latest screen-pop (calls answered since ``since``) from
        the stored queue facts. A pop delivered meanwhile wins; a database outage restores nothing."""

        def rebuild(session: Session) -> list[ScreenPop]:
            answered = last_answered(session, since)
            return [build_screen_pop(session, a, history=self._history, work_orders=self._work_orders,
                                     visits=self._visits) for a in answered]

        try:
            pops = await self._database.run(rebuild)
        except (SQLAlchemyError, StorageError) as exc:
            log.warning(fields("screenpop.restore_failed", error=describe_error(exc)))
            return 0
        for pop in pops:
            self._latest.setdefault(pop.agent_id, pop)
        log.info(fields("screenpop.restored", agents=len(pops)))
        return len(pops)

    async def run(self, events: AsyncIterator[RuntimeEvent],
                  relay: Callable[[RuntimeEvent], None] | None = None) -> None:
        """Build a screen-pop for every ``answered`` event until ``events`` ends or the task is cancelled.

        Several nodes: ``relay`` sends this node's ``answered`` events to the others once the pop is
        built (built or failed), so the call's IVR path is in the database when they build theirs; an
        event from another node (``RuntimeEvent.node``) is built here from what that node stored."""
        async for event in events:
            answered = answered_from(event)
            if answered is not None:
                await self.on_answered(answered)
                if relay is not None and event.node is None:
                    relay(event)

    async def on_answered(self, answered: Answered) -> ScreenPop | None:
        """Build, remember and publish the screen-pop for ``answered``; None when storage failed."""
        try:
            if self._node_log is not None:
                await self._node_log.flush()
            pop = await self._database.run(
                lambda session: build_screen_pop(session, answered, history=self._history,
                                                 work_orders=self._work_orders, visits=self._visits)
            )
        except (SQLAlchemyError, StorageError) as exc:
            self.failures += 1
            log.error(fields("screenpop.failed", call=answered.call_id, agent=answered.agent_id,
                             error=describe_error(exc)))
            return None
        self.publish(pop)
        log.info(fields("screenpop.delivered", call=pop.call_id, agent=pop.agent_id,
                        customer=pop.customer.name, nodes=len(pop.path)))
        return pop

    def publish(self, pop: ScreenPop) -> None:
        """Make ``pop`` the agent's latest and hand it to their subscribers (a slow one loses the oldest)."""
        self._latest[pop.agent_id] = pop
        for queue in self._subscribers.get(pop.agent_id, ()):
            if queue.full():
                with suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(pop)

    async def stream(self, agent_id: str) -> AsyncIterator[ScreenPop]:
        """Every screen-pop for ``agent_id`` from now on, as it is delivered."""
        queue: asyncio.Queue[ScreenPop] = asyncio.Queue(SUBSCRIBER_BACKLOG)
        self._subscribers[agent_id].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[agent_id].discard(queue)
            if not self._subscribers[agent_id]:
                del self._subscribers[agent_id]

    def subscriber_count(self, agent_id: str) -> int:
        return len(self._subscribers.get(agent_id, ()))


def answered_from(event: RuntimeEvent) -> Answered | None:
    """The ``Answered`` an ACD runtime event describes, or None for other kinds or incomplete events."""
    if event.kind is not RuntimeEventKind.ANSWERED or not event.call_id or not event.agent_id:
        return None
    return Answered(event.call_id, event.agent_id, event.caller or "", event.queue, event.at)
