"""A fake ACD behind ``AcdControl`` (the real ``acd.Acd`` engine on a settable clock) and a sample
screen-pop, shared by the control API and web desktop tests.

Agent commands publish STATE_CHANGED like the runtime does; ``emit`` publishes any runtime event
(offered, answered, ended) as the live ACD would during a call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import acd
from acd.live.api import RuntimeEvent, RuntimeEventKind
from ivr_engine.screenpop import AccountSummary, CustomerCard, OrderSummary, PastCall, PathEntry, ScreenPop

EPOCH = 1_800_000_000.0
"""The fake's clock unless a test gives another."""


class FakeControl:
    """``AcdControl`` over the pure engine, its clock ``now`` set by the test."""

    def __init__(self, now: float = EPOCH) -> None:
        self.now = now
        self.acd = acd.Acd(
            [acd.Queue("general", {"general": 1}), acd.Queue("billing", {"billing": 5})],
            agents=[
                acd.Agent("1001", "Ann Lee", "PJSIP/1001", {"general": 5, "billing": 8}),
                acd.Agent("1002", "Raj Patel", "PJSIP/1002", {"general": 5, "orders": 9}),
            ],
        )
        self._subscribers: set[asyncio.Queue[RuntimeEvent]] = set()

    def state(self, agent_id: str) -> acd.AgentState:
        return next(a.state for a in self.agents() if a.id == agent_id)

    def agents(self) -> list[acd.Agent]:
        return self.acd.store.agents()

    def queue_statuses(self) -> list[acd.QueueStatus]:
        return [self.acd.queue_status(name, self.now) for name in self.acd.queues]

    def waiting_calls(self) -> list[acd.WaitingCall]:
        return [call for status in self.queue_statuses() for call in status.waiting]

    async def login(self, agent_id: str) -> None:
        self._publish(self.acd.login(agent_id, self.now))

    async def logout(self, agent_id: str) -> None:
        self._publish(self.acd.logout(agent_id, self.now))

    async def pause(self, agent_id: str, reason: str) -> None:
        self._publish(self.acd.pause(agent_id, reason, self.now))

    async def ready(self, agent_id: str) -> None:
        self._publish(self.acd.ready(agent_id, self.now))

    async def subscribe(self) -> AsyncIterator[RuntimeEvent]:
        queue: asyncio.Queue[RuntimeEvent] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def emit(self, kind: RuntimeEventKind, agent_id: str, call_id: str, caller: str = "15550001001") -> None:
        self._send(RuntimeEvent(kind, datetime.now(UTC), agent_id, call_id, caller, "general"))

    def _publish(self, events: list[acd.AcdEvent]) -> None:
        for event in events:
            if isinstance(event, acd.StateChange):
                self._send(RuntimeEvent(
                    RuntimeEventKind.STATE_CHANGED, datetime.now(UTC), event.agent_id, None, None, None,
                    f"{event.from_state.value} -> {event.to_state.value}: {event.reason}",
                ))

    def _send(self, event: RuntimeEvent) -> None:
        for queue in self._subscribers:
            queue.put_nowait(event)


def alice_pop(agent_id: str = "1001", call_id: str = "call-1") -> ScreenPop:
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    return ScreenPop(
        call_id=call_id,
        agent_id=agent_id,
        caller="15550001001",
        queue="general",
        answered_at=at,
        customer=CustomerCard(
            customer_id=1, name="Alice Chen", phone="15550001001", known=True, vip_level=2,
            accounts=(AccountSummary("ACC-100", "1520.50"),),
            orders=(OrderSummary("ORD-77", "shipped", "2026-11-24"),),
            points=4520,
        ),
        path=(
            PathEntry(1, "main", "welcome", "play", None, "next", at, 2.0),
            PathEntry(2, "main", "ask_pin", "gather", "****", "found", at, 3.5),
            PathEntry(3, "main", "menu", "menu", "0", "0", at, 1.5),
        ),
        last_calls=(PastCall("call-0", at, "100", "completed", 64.0),),
    )
