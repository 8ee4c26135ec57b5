"""The operator front (``AcdControl``): agents and queues as they stand, agent commands, the event feed
and who answered a call."""

from __future__ import annotations

import acd
from acd.live.answered import AnsweredBy
from acd.live.hub import EventHub, Subscription
from acd.live.inflight import Apply, EpochClock

__all__ = ["OperatorFront"]


class OperatorFront:
    def __init__(self, engine: acd.Acd, *, hub: EventHub, answered_by: AnsweredBy, apply: Apply,
                 clock: EpochClock) -> None:
        self._acd = engine
        self._hub = hub
        self._answered_by = answered_by
        self._apply = apply
        self._clock = clock

    def agents(self) -> list[acd.Agent]:
        return self._acd.store.agents()

    def queue_statuses(self) -> list[acd.QueueStatus]:
        now = self._clock()
        return [self._acd.queue_status(name, now) for name in sorted(self._acd.queues)]

    def waiting_calls(self) -> list[acd.WaitingCall]:
        return [c for name in sorted(self._acd.queues) for c in self._acd.store.waiting(name)]

    async def login(self, agent_id: str) -> None:
        self._apply(self._acd.login(agent_id, self._clock()))

    async def logout(self, agent_id: str) -> None:
        self._apply(self._acd.logout(agent_id, self._clock()))

    async def pause(self, agent_id: str, reason: str) -> None:
        self._apply(self._acd.pause(agent_id, reason, self._clock()))

    async def ready(self, agent_id: str) -> None:
        self._apply(self._acd.ready(agent_id, self._clock()))

    def subscribe(self) -> Subscription:
        return self._hub.subscribe()

    def agent_of(self, call_id: str) -> str | None:
        """The agent who answered ``call_id`` (kept after the call for the post-call survey)."""
        return self._answered_by.agent_of(call_id)
