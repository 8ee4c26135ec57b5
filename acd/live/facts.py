"""Where the runtime stores ACD facts: the shape of ``ivr_engine.reports.recorder.AcdRecorder``.

Declared here as a protocol so tests can pass a list-backed fake and the runtime does not depend on the
database. Every method returns whether the fact was stored and never raises for database trouble.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import acd
from ivr_engine.storage.acd_records import QueueOutcome

__all__ = ["AcdFactSink", "QueueOutcome"]


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
