"""The relational schema as typed SQLAlchemy ORM classes.

The migrations in ``ivr_engine.storage.migrations`` create exactly this schema; a test compares the two.
``call_id`` columns outside ``calls`` are soft references (indexed, no foreign key) so a node event, a
voicemail or a survey answer is never refused because its call row is missing (e.g. a simulated call).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "IN_PROGRESS",
    "Account",
    "Base",
    "Call",
    "CallRecording",
    "Customer",
    "CustomerPhone",
    "LoyaltyMember",
    "NodeEntryRow",
    "NodeEventRow",
    "Order",
    "SurveyResponse",
    "UTCDateTime",
    "Voicemail",
    "spent_ms",
]

BigId = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit ids on PostgreSQL; SQLite only autoincrements an ``INTEGER PRIMARY KEY``."""

IN_PROGRESS = "in_progress"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC; SQLite keeps them naive, so they are read back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def spent_ms(entered: datetime, left: datetime) -> int:
    """Time spent at a node in whole milliseconds (half a millisecond rounds up)."""
    return ((left - entered) // timedelta(microseconds=1) + 500) // 1000


def _spent_ms_default(context: DefaultExecutionContext) -> int:
    params: dict[str, datetime] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return spent_ms(params["entered"], params["left"])


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    vip_level: Mapped[int] = mapped_column(Integer, default=0, doc="0 = not VIP; 1 and up = VIP tiers")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)

    phones: Mapped[list[CustomerPhone]] = relationship(back_populates="customer")


class CustomerPhone(Base):
    """A customer's phone number (digits only), the key for caller-id recognition."""

    __tablename__ = "customer_phones"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)

    customer: Mapped[Customer] = relationship(back_populates="phones")


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    pin_hash: Mapped[str] = mapped_column(String(255), doc="see ivr_engine.storage.pins; never the PIN")
    balance: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    expected_delivery: Mapped[date | None] = mapped_column(Date)


class LoyaltyMember(Base):
    __tablename__ = "loyalty_members"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    card_number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    points: Mapped[int] = mapped_column(Integer, default=0)


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, doc="our call id")
    caller: Mapped[str] = mapped_column(String(64))
    dialled: Mapped[str] = mapped_column(String(64))
    started: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposition: Mapped[str] = mapped_column(String(32), default=IN_PROGRESS)
    node: Mapped[str | None] = mapped_column(String(64), doc="the node (setting node_id) that handled it")


class NodeEntryRow(Base):
    """The node each live call is in now (one row per call, replaced as it moves, deleted when the call
    ends). A call whose service died keeps its row: the sweep that closes the call as ``lost`` writes it
    to ``node_events`` as the node the call was in (outcome ``lost``)."""

    __tablename__ = "node_entries"

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    flow: Mapped[str] = mapped_column(String(100))
    node: Mapped[str] = mapped_column(String(100))
    node_type: Mapped[str] = mapped_column(String(32))
    entered: Mapped[datetime] = mapped_column(UTCDateTime)


class NodeEventRow(Base):
    """One node a call passed (see ``ivr_engine.flow.ports.NodeEvent``); ``input`` arrives masked.

    ``spent_ms`` (``left - entered``) is filled on insert from the row's own times, so every writer (the
    write-behind queue, seeds, tests) stores it. The two covering indexes let the node statistics read
    percentiles and exit counts in index order, without a sort (see ``ivr_engine.reports.node_stats``).
    """

    __tablename__ = "node_events"
    __table_args__ = (
        Index("ix_node_events_call_seq", "call_id", "seq"),
        Index("ix_node_events_flow_node", "flow", "node"),
        Index("ix_node_events_flow_node_spent", "flow", "node", "spent_ms", "entered"),
        Index("ix_node_events_flow_node_outcome", "flow", "node", "outcome", "node_type", "entered"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    flow: Mapped[str] = mapped_column(String(100))
    node: Mapped[str] = mapped_column(String(100))
    node_type: Mapped[str] = mapped_column(String(32))
    entered: Mapped[datetime] = mapped_column(UTCDateTime)
    left: Mapped[datetime] = mapped_column(UTCDateTime)
    input: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(100))
    spent_ms: Mapped[int] = mapped_column(Integer, default=_spent_ms_default)


class Voicemail(Base):
    __tablename__ = "voicemails"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    caller: Mapped[str] = mapped_column(String(64))
    mailbox: Mapped[str] = mapped_column(String(64), index=True)
    file_path: Mapped[str] = mapped_column(Text)
    duration: Mapped[float] = mapped_column(Numeric(10, 2, asdecimal=False))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    heard: Mapped[bool] = mapped_column(default=False)
    """Set once someone played it (``ivr voicemail play``, the desktop's player)."""
    closed: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(32), doc="handled, callback or work_order")
    work_order: Mapped[str | None] = mapped_column(String(32), doc="the serial it became")


class CallRecording(Base):
    """A recorded caller-agent conversation (a queue with ``record: true``): the mixed audio of both
    parties, kept until the retention sweep (``ivr_engine.recordings``) deletes file and row."""

    __tablename__ = "call_recordings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(64))
    file_path: Mapped[str] = mapped_column(Text)
    started: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration: Mapped[float] = mapped_column(Numeric(10, 2, asdecimal=False))


class SurveyResponse(Base):
    __tablename__ = "survey_responses"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="ck_survey_responses_score"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    survey: Mapped[str] = mapped_column(String(100))
    question: Mapped[str] = mapped_column(String(100))
    score: Mapped[int] = mapped_column(Integer)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
