"""Where the runtime stores ACD facts: the shape of ``acd.records.recorder.AcdRecorder``.

Declared here as a protocol so tests can pass a list-backed fake and the runtime does not depend on the
database. Every method returns whether the fact was stored and never raises for database trouble.
``FactWriter`` is the runtime's side: it turns ACD times into datetimes and writes in tracked tasks, so a
slow database never holds a call up.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import acd
from acd.live.inflight import utc
from acd.live.tasks import TaskSet
from acd.records.rows import QueueOutcome
from ivr_engine.flow.ports import TransferRequest

__all__ = ["AcdFactSink", "FactWriter", "QueueOutcome"]


class AcdFactSink(Protocol):
    async def register_agents(self, agents: Sequence[acd.Agent]) -> bool:
        """The configured agents' names and endpoints, stored at start-up for the reports."""
        ...

    async def record_state_change(
        self, *, agent_id: str, from_state: str, to_state: str, reason: str, at: datetime
    ) -> bool: ...

    async def queue_call_enqueued(
        self,
        *,
        call_id: str,
        queue: str,
        caller: str,
        priority: int,
        enqueued: datetime,
        predicted_wait_s: float | None,
    ) -> bool: ...

    async def queue_call_answered(self, *, call_id: str, agent_id: str, answered: datetime) -> bool: ...

    async def queue_call_ended(self, *, call_id: str, outcome: QueueOutcome, ended: datetime) -> bool: ...

    async def callback_requested(
        self, *, call_id: str, caller: str, number: str, queue: str, requested: datetime
    ) -> bool: ...

    async def wrap_up(
        self, *, call_id: str, agent_id: str, disposition: str, note: str, at: datetime
    ) -> bool: ...


class FactWriter:
    """Writes the runtime's facts to ``sink`` (none when ``None``); times are ACD epoch seconds."""

    def __init__(self, sink: AcdFactSink | None, tasks: TaskSet) -> None:
        self._sink = sink
        self._tasks = tasks

    def enqueued(self, request: TransferRequest, at: float, predicted: float | None) -> None:
        if self._sink is not None:
            self._tasks.spawn(self._sink.queue_call_enqueued(
                call_id=request.call_id, queue=request.queue, caller=request.caller,
                priority=request.priority, enqueued=utc(at), predicted_wait_s=predicted), "facts")

    def ended(self, call_id: str, outcome: QueueOutcome, at: float) -> None:
        if self._sink is not None:
            self._tasks.spawn(self._sink.queue_call_ended(call_id=call_id, outcome=outcome, ended=utc(at)),
                              "facts")

    def answered(self, call_id: str, agent_id: str, at: float) -> None:
        if self._sink is not None:
            self._tasks.spawn(self._sink.queue_call_answered(call_id=call_id, agent_id=agent_id,
                                                             answered=utc(at)), "facts")

    def state_changed(self, change: acd.StateChange) -> None:
        if self._sink is not None:
            self._tasks.spawn(self._sink.record_state_change(
                agent_id=change.agent_id, from_state=change.from_state.value,
                to_state=change.to_state.value, reason=change.reason, at=utc(change.at)), "facts")

    async def callback_requested(self, request: TransferRequest, enqueued: float) -> None:
        """Awaited, not spawned: the caller hears the confirmation once the request is stored."""
        if self._sink is not None:
            await self._sink.callback_requested(
                call_id=request.call_id, caller=request.caller, number=request.caller,
                queue=request.queue, requested=utc(enqueued),
            )
