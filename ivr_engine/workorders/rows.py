"""The work-order tables (migration 0008): one row per order, one per line of its history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr_engine.storage.models import Base, BigId, UTCDateTime
from ivr_engine.workorders.model import Action, OrderState, Urgency, VisitOutcome

__all__ = ["WorkOrderEventRow", "WorkOrderRow"]


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class WorkOrderRow(Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        CheckConstraint(_one_of("urgency", Urgency), name="ck_work_orders_urgency"),
        CheckConstraint(_one_of("state", OrderState), name="ck_work_orders_state"),
        CheckConstraint(f"visit_outcome IS NULL OR {_one_of('visit_outcome', VisitOutcome)}",
                        name="ck_work_orders_visit_outcome"),
        Index("ix_work_orders_customer_kind_created", "customer_id", "kind", "created"),
        Index("ix_work_orders_state_deadline", "state", "deadline"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    urgency: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    phone: Mapped[str] = mapped_column(String(32))
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(64))
    handler: Mapped[str | None] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    closed: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(Text, default="")
    repeat_of: Mapped[str | None] = mapped_column(String(32))
    visit_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visit_outcome: Mapped[str | None] = mapped_column(String(16))
    visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkOrderEventRow(Base):
    """One line of an order's history: who did what, when."""

    __tablename__ = "work_order_events"
    __table_args__ = (CheckConstraint(_one_of("action", Action), name="ck_work_order_events_action"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)
