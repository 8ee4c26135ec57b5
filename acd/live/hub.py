"""Fan-out of ``RuntimeEvent``s to any number of subscribers, each with its own unbounded queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from acd.live.api import RuntimeEvent, RuntimeEventKind
from acd.live.inflight import utc

__all__ = ["EventHub", "Subscription"]


class Subscription:
    """Registered at creation, so no event published after ``subscribe()`` returns is missed."""

    def __init__(self, hub: EventHub) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[RuntimeEvent] = asyncio.Queue()
        hub._subscribers.add(self._queue)

    def __aiter__(self) -> AsyncIterator[RuntimeEvent]:
        return self

    async def __anext__(self) -> RuntimeEvent:
        if self._queue not in self._hub._subscribers:
            raise StopAsyncIteration
        return await self._queue.get()

    async def aclose(self) -> None:
        self._hub._subscribers.discard(self._queue)


class EventHub:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[RuntimeEvent]] = set()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> Subscription:
        return Subscription(self)

    def publish(self, event: RuntimeEvent) -> None:
        for queue in self._subscribers:
            queue.put_nowait(event)

    def emit(self, kind: RuntimeEventKind, at: float, agent_id: str | None, call_id: str | None,
             caller: str | None, queue: str | None, detail: str = "") -> None:
        """Publish one event at ``at`` (ACD epoch seconds)."""
        self.publish(RuntimeEvent(kind, utc(at), agent_id, call_id, caller, queue, detail))
