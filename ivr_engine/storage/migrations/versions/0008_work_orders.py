"""work_orders and work_order_events: requests logged from calls, dispatched, closed, visited back;
the voicemail inbox: who closed a voicemail, when, how, and the work order it became

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

See ivr_engine/workorders (rows.py mirrors these tables) and ivr_engine/voicemail.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "work_orders",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("serial", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=True),
        sa.Column("handler", sa.String(length=64), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("repeat_of", sa.String(length=32), nullable=True),
        sa.Column("visit_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("visit_outcome", sa.String(length=16), nullable=True),
        sa.Column("visit_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("urgency IN ('low', 'normal', 'high', 'urgent')", name="ck_work_orders_urgency"),
        sa.CheckConstraint("state IN ('open', 'dispatched', 'closed')", name="ck_work_orders_state"),
        sa.CheckConstraint(
            "visit_outcome IS NULL OR visit_outcome IN ('satisfied', 'unsatisfied', 'unreached')",
            name="ck_work_orders_visit_outcome",
        ),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("serial"),
    )
    op.create_index("ix_work_orders_call_id", "work_orders", ["call_id"])
    op.create_index("ix_work_orders_customer_kind_created", "work_orders", ["customer_id", "kind", "created"])
    op.create_index("ix_work_orders_state_deadline", "work_orders", ["state", "deadline"])
    op.create_table(
        "work_order_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("order_id", BIG_ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "action IN ('created', 'dispatched', 'reassigned', 'commented', 'closed', 'visited')",
            name="ck_work_order_events_action",
        ),
        sa.ForeignKeyConstraint(["order_id"], ["work_orders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_work_order_events_order_id", "work_order_events", ["order_id"])
    with op.batch_alter_table("voicemails") as batch:
        batch.add_column(sa.Column("closed", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("work_order", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("voicemails") as batch:
        for column in ("work_order", "outcome", "closed_by", "closed"):
            batch.drop_column(column)
    op.drop_table("work_order_events")
    op.drop_table("work_orders")
