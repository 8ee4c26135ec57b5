"""``AcdRecorder``: the ACD runtime's typed, never-raising writer of ACD facts.

Every method runs its SQLAlchemy work in a worker thread (``Database.run``) and returns whether the fact
was stored. Writes are serialised in call order (an ``asyncio.Lock``), so "answered" never overtakes
"enqueued". A database outage is retried with backoff; after the last attempt, or on a fact the database
refuses, the fact is dropped with a warning: a call is never failed because a statistic was not stored.
The runtime may ``await`` these methods, or fire them as tasks when it must not wait at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from acd.records.rows import (
    AgentRow,
    AgentStateChangeRow,
    CallbackRow,
    CallbackStatus,
    QueueCallRow,
    QueueOutcome,
    WrapUpRow,
)
from ivr_engine.storage.database import Database, is_outage
from ivr_engine.storage.models import Base

__all__ = ["AcdRecorder", "NamedAgent"]

log = logging.getLogger(__name__)


def _seconds(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds(), 3)


class NamedAgent(Protocol):
    """What an agent row needs (``acd.Agent`` has it): the id, the name shown in reports, the endpoint."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def endpoint(self) -> str: ...


class AcdRecorder:
    """Stores the ACD's facts; see the module docstring for the failure policy."""

    def __init__(self, database: Database, *, attempts: int = 3, retry_delay_s: float = 0.2) -> None:
        self._db = database
        self._attempts = max(1, attempts)
        self._retry_delay_s = retry_delay_s
        self._lock = asyncio.Lock()

    async def _write(self, what: str, work: Callable[[Session], bool]) -> bool:
        async with self._lock:
            for attempt in range(1, self._attempts + 1):
                try:
                    return await self._db.run(work)
                except SQLAlchemyError as exc:
                    if not is_outage(exc) or attempt == self._attempts:
                        log.warning("ACD fact dropped (%s) after %d attempt(s): %s", what, attempt, exc)
                        return False
                    log.info("database unavailable storing %s (attempt %d), retrying", what, attempt)
                    await asyncio.sleep(self._retry_delay_s * 2 ** (attempt - 1))
        return False

    async def _add(self, what: str, make_row: Callable[[], Base]) -> bool:
        """Insert one fact row, built afresh for each attempt."""

        def work(session: Session) -> bool:
            session.add(make_row())
            return True

        return await self._write(what, work)

    async def register_agent(self, agent_id: str, name: str, endpoint: str) -> bool:
        """Create or update the agent's row (names for reports)."""

        def work(session: Session) -> bool:
            _save_agent(session, agent_id, name, endpoint)
            return True

        return await self._write(f"agent {agent_id}", work)

    async def register_agents(self, agents: Iterable[NamedAgent]) -> bool:
        """Create or update the rows of all ``agents`` in one transaction (the service does this at
        start-up from acd.yaml, so reports name every agent). Agents not listed keep their rows."""
        wanted = {agent.id: (agent.name, agent.endpoint) for agent in agents}

        def work(session: Session) -> bool:
            for agent_id, (name, endpoint) in wanted.items():
                _save_agent(session, agent_id, name, endpoint)
            return True

        return await self._write(f"{len(wanted)} agent(s)", work)

    async def record_state_change(
        self, *, agent_id: str, from_state: str, to_state: str, reason: str, at: datetime
    ) -> bool:
        return await self._add(
            f"state change of {agent_id}",
            lambda: AgentStateChangeRow(
                agent_id=agent_id, from_state=from_state, to_state=to_state, reason=reason, at=at
            ),
        )

    async def queue_call_enqueued(
        self,
        *,
        call_id: str,
        queue: str,
        caller: str,
        priority: int,
        enqueued: datetime,
        predicted_wait_s: float | None,
    ) -> bool:
        return await self._add(
            f"enqueue of {call_id}",
            lambda: QueueCallRow(
                call_id=call_id,
                queue=queue,
                caller=caller,
                priority=priority,
                enqueued=enqueued,
                predicted_wait_s=predicted_wait_s,
            ),
        )

    async def queue_call_answered(self, *, call_id: str, agent_id: str, answered: datetime) -> bool:
        def work(session: Session) -> bool:
            row = _open_stay(session, call_id)
            if row is None or row.answered is not None:
                log.warning("ACD fact dropped: answer of %s, which is not waiting in a queue", call_id)
                return False
            row.answered, row.agent_id = answered, agent_id
            row.outcome = QueueOutcome.ANSWERED.value
            row.actual_wait_s = _seconds(row.enqueued, answered)
            return True

        return await self._write(f"answer of {call_id}", work)

    async def queue_call_ended(self, *, call_id: str, outcome: QueueOutcome, ended: datetime) -> bool:
        """Close the queue stay; an answered call keeps outcome ``answered`` and gets its handle time."""

        def work(session: Session) -> bool:
            row = _open_stay(session, call_id)
            if row is None:
                log.warning("ACD fact dropped: end of %s, which has no open queue stay", call_id)
                return False
            row.ended = ended
            if row.answered is not None:
                row.handle_s = _seconds(row.answered, ended)
            else:
                row.outcome = outcome.value
                row.actual_wait_s = _seconds(row.enqueued, ended)
            return True

        return await self._write(f"end of {call_id}", work)

    async def callback_requested(
        self, *, call_id: str, caller: str, number: str, queue: str, requested: datetime
    ) -> bool:
        return await self._add(
            f"callback for {call_id}",
            lambda: CallbackRow(
                call_id=call_id,
                caller=caller,
                number=number,
                queue=queue,
                requested=requested,
                status=CallbackStatus.PENDING.value,
            ),
        )

    async def wrap_up(
        self, *, call_id: str, agent_id: str, disposition: str, note: str, at: datetime
    ) -> bool:
        return await self._add(
            f"wrap-up of {call_id}",
            lambda: WrapUpRow(call_id=call_id, agent_id=agent_id, disposition=disposition, note=note, at=at),
        )


def _save_agent(session: Session, agent_id: str, name: str, endpoint: str) -> None:
    """Create the agent's row, or update its name and endpoint."""
    row = session.get(AgentRow, agent_id)
    if row is None:
        session.add(AgentRow(id=agent_id, name=name, endpoint=endpoint))
    else:
        row.name, row.endpoint = name, endpoint


def _open_stay(session: Session, call_id: str) -> QueueCallRow | None:
    """The call's latest queue stay that has not ended."""
    return session.scalars(
        select(QueueCallRow)
        .where(QueueCallRow.call_id == call_id, QueueCallRow.ended.is_(None))
        .order_by(QueueCallRow.id.desc())
        .limit(1)
    ).first()
