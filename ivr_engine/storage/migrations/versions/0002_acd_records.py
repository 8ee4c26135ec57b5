"""ACD facts: agents, agent state changes, queue calls, callbacks, wrap-ups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Mirrors ``acd.records.rows``. ``call_id``/``agent_id`` are soft references (no foreign key).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_OUTCOMES = "'answered', 'abandoned', 'overflow', 'callback', 'no_agents'"
_CALLBACK_STATUSES = "'pending', 'done', 'failed', 'cancelled'"


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "agent_state_changes",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=False),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agent_state_changes_agent_at", "agent_state_changes", ["agent_id", "at"])
    op.create_table(
        "queue_calls",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("enqueued", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("predicted_wait_s", sa.Float(), nullable=True),
        sa.Column("actual_wait_s", sa.Float(), nullable=True),
        sa.Column("handle_s", sa.Float(), nullable=True),
        sa.CheckConstraint(f"outcome IS NULL OR outcome IN ({_OUTCOMES})", name="ck_queue_calls_outcome"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_queue_calls_queue_enqueued", "queue_calls", ["queue", "enqueued"])
    op.create_index("ix_queue_calls_agent", "queue_calls", ["agent_id"])
    op.create_index("ix_queue_calls_call", "queue_calls", ["call_id"])
    op.create_table(
        "callbacks",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("requested", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.CheckConstraint(f"status IN ({_CALLBACK_STATUSES})", name="ck_callbacks_status"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callbacks_call_id", "callbacks", ["call_id"])
    op.create_index("ix_callbacks_status_requested", "callbacks", ["status", "requested"])
    op.create_table(
        "wrap_ups",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("disposition", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_wrap_ups_call_id", "wrap_ups", ["call_id"])
    op.create_index("ix_wrap_ups_agent_id", "wrap_ups", ["agent_id"])


def downgrade() -> None:
    op.drop_table("wrap_ups")
    op.drop_table("callbacks")
    op.drop_table("queue_calls")
    op.drop_table("agent_state_changes")
    op.drop_table("agents")
