"""The ACD's facts as typed ORM classes: agents, their state changes, queued calls, callbacks, wrap-ups.

These are append-mostly records written by :class:`acd.records.recorder.AcdRecorder` and read by
the ACD reports. Like the storage package's own tables, ``call_id`` and ``agent_id`` are soft references
(indexed, no foreign key): the recorder writes facts from independent events in whatever order they
arrive, and a fact must never be refused because the row it names has not been written yet.

The ACD's live state (``acd.sql_tables``, on a metadata of its own, created by migration 0005) belongs to
the same schema: this module copies it onto the service's ``Base.metadata`` too, so the migrations are
checked against every ACD table (``tests/storage/test_schema.py``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from acd.sql_tables import METADATA as LIVE_STATE
from ivr_engine.storage.models import Base, BigId, UTCDateTime

__all__ = [
    "AgentRow",
    "AgentStateChangeRow",
    "CallbackAttemptRow",
    "CallbackKind",
    "CallbackRow",
    "CallbackStatus",
    "QueueCallRow",
    "QueueOutcome",
    "WrapUpRow",
]


class QueueOutcome(StrEnum):
    """How a queued call left the queue."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    OVERFLOW = "overflow"
    CALLBACK = "callback"
    NO_AGENTS = "no_agents"


class CallbackStatus(StrEnum):
    PENDING = "pending"
    DIALING = "dialing"
    """Claimed by the node (``CallbackRow.node``) that offers it to an agent and dials the customer."""
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class CallbackKind(StrEnum):
    CALLBACK = "callback"
    """Booked by a caller instead of waiting in the queue."""
    RETURN_VISIT = "return_visit"
    """Booked by closing a work order (``CallbackRow.work_order``): is the customer satisfied?"""


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class AgentRow(Base):
    """An agent as the ACD knows it (the YAML config or the database); gives reports a name."""

    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(200))


class AgentStateChangeRow(Base):
    """One transition of an agent's state machine, e.g. ready -> ringing."""

    __tablename__ = "agent_state_changes"
    __table_args__ = (Index("ix_agent_state_changes_agent_at", "agent_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class QueueCallRow(Base):
    """One stay of a call in a queue: from enqueue to answer/abandon/overflow/callback.

    ``ended`` is NULL while the call waits or talks; ``actual_wait_s`` is set when the call leaves the
    queue (answered or not), ``handle_s`` when an answered call ends.
    """

    __tablename__ = "queue_calls"
    __table_args__ = (
        Index("ix_queue_calls_queue_enqueued", "queue", "enqueued"),
        Index("ix_queue_calls_agent", "agent_id"),
        Index("ix_queue_calls_call", "call_id"),
        CheckConstraint(
            f"outcome IS NULL OR {_one_of('outcome', QueueOutcome)}", name="ck_queue_calls_outcome"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(100))
    caller: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    enqueued: Mapped[datetime] = mapped_column(UTCDateTime)
    answered: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(16))
    predicted_wait_s: Mapped[float | None] = mapped_column(Float)
    actual_wait_s: Mapped[float | None] = mapped_column(Float)
    handle_s: Mapped[float | None] = mapped_column(Float)


class CallbackRow(Base):
    """A caller's request to be called back instead of waiting, or a work order's return visit."""

    __tablename__ = "callbacks"
    __table_args__ = (
        CheckConstraint(_one_of("status", CallbackStatus), name="ck_callbacks_status"),
        CheckConstraint(_one_of("kind", CallbackKind), name="ck_callbacks_kind"),
        Index("ix_callbacks_status_requested", "status", "requested"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    caller: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(100))
    requested: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=CallbackStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Attempts that dialled the customer (the retry policy counts these: ``acd.retry_policy``)."""
    due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Pending: not placed before this (a retry's spacing); NULL: at once."""
    node: Mapped[str | None] = mapped_column(String(64))
    """Dialing: the node that claimed it ('' on a single node)."""
    placed: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the customer was first dialled."""
    connected: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the customer answered and was bridged to ``agent_id``."""
    agent_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default=CallbackKind.CALLBACK.value,
                                      server_default=CallbackKind.CALLBACK.value)
    work_order: Mapped[str | None] = mapped_column(String(32), index=True)
    """A return visit: the serial of the work order it follows up (``call_id`` is ``visit:<serial>``)."""


class CallbackAttemptRow(Base):
    """One attempt at placing a callback: the agent rung, when, and how it ended."""

    __tablename__ = "callback_attempts"
    __table_args__ = (Index("ix_callback_attempts_callback", "callback_id", "started"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    callback_id: Mapped[int] = mapped_column(BigId)
    agent_id: Mapped[str] = mapped_column(String(64))
    started: Mapped[datetime] = mapped_column(UTCDateTime)
    """When the agent answered and the customer was dialled."""
    ended: Mapped[datetime] = mapped_column(UTCDateTime)
    result: Mapped[str] = mapped_column(String(16))


class WrapUpRow(Base):
    """The agent's after-call disposition code and note."""

    __tablename__ = "wrap_ups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    disposition: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


for _table in LIVE_STATE.sorted_tables:
    _table.to_metadata(Base.metadata)
