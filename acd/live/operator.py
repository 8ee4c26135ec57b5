"""The operator front (``AcdControl``): agents and queues as they stand, agent commands, the event feed
and who answered a call."""

from __future__ import annotations

import acd
from acd.live.answered import AnsweredBy
from acd.live.hub import EventHub, Subscription
from acd.live.inflight import EpochClock
from acd.live.worker import EngineWorker

__all__ = ["OperatorFront"]


class OperatorFront:
    def __init__(self, worker: EngineWorker, *, hub: EventHub, answered_by: AnsweredBy,
                 clock: EpochClock) -> None:
        self._worker = worker
        self._hub = hub
        self._answered_by = answered_by
        self._clock = clock

    # Reads come from the worker's view (as of the latest operation or tick): never the store.

    def agents(self) -> list[acd.Agent]:
        return list(self._worker.view.agents)

    def queue_statuses(self) -> list[acd.QueueStatus]:
        return self._worker.view.queue_statuses(self._clock())

    def waiting_calls(self) -> list[acd.WaitingCall]:
        return self._worker.view.waiting_calls()

    async def login(self, agent_id: str) -> None:
        now = self._clock()
        await self._worker.act(lambda engine: engine.login(agent_id, now))

    async def logout(self, agent_id: str) -> None:
        now = self._clock()
        await self._worker.act(lambda engine: engine.logout(agent_id, now))

    async def pause(self, agent_id: str, reason: str) -> None:
        now = self._clock()
        await self._worker.act(lambda engine: engine.pause(agent_id, reason, now))

    async def ready(self, agent_id: str) -> None:
        now = self._clock()
        await self._worker.act(lambda engine: engine.ready(agent_id, now))

    def subscribe(self) -> Subscription:
        return self._hub.subscribe()

    def agent_of(self, call_id: str) -> str | None:
        """The agent who answered ``call_id`` (kept after the call for the post-call survey)."""
        return self._answered_by.agent_of(call_id)
