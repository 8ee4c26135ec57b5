"""ACD live state: agents and their skills, waiting calls, offers, counters, round-robin cursors, handle times

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

Mirrors ``acd.sql_tables`` (the tables of ``acd.sql_store.SqlStore``). Times are the ACD clock's float
seconds; agent ids compare by code point on PostgreSQL (``COLLATE "C"``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AGENT_ID = sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "acd_agents",
        sa.Column("id", AGENT_ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_since", sa.Double(), nullable=False),
        sa.Column("pause_reason", sa.String(length=100), nullable=False),
        sa.Column("calls_taken", sa.Integer(), nullable=False),
        sa.Column("last_call_end", sa.Double(), nullable=True),
        sa.Column("current_call", sa.String(length=64), nullable=True),
        sa.Column("current_queue", sa.String(length=100), nullable=True),
        sa.Column("answered_at", sa.Double(), nullable=True),
        sa.Column("wrap_up_until", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_acd_agents_state", "acd_agents", ["state", "state_since", "id"])
    op.create_table(
        "acd_agent_skills",
        sa.Column("agent_id", AGENT_ID, nullable=False),
        sa.Column("skill", sa.String(length=100), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["acd_agents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("agent_id", "skill"),
    )
    op.create_index("ix_acd_agent_skills_skill", "acd_agent_skills", ["skill", "agent_id", "level"])
    op.create_table(
        "acd_waiting_calls",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("enqueued_at", sa.Double(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("vip", sa.Boolean(), nullable=False),
        sa.Column("predicted_wait", sa.Double(), nullable=True),
        sa.Column("offered_to", AGENT_ID, nullable=True),
        sa.Column("node", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("call_id"),
    )
    op.create_index("ix_acd_waiting_calls_queue", "acd_waiting_calls", ["queue", "enqueued_at", "seq"])
    op.create_table(
        "acd_offers",
        sa.Column("agent_id", AGENT_ID, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["acd_agents.id"]),
        sa.PrimaryKeyConstraint("agent_id"),
        sa.UniqueConstraint("call_id", name="uq_acd_offers_call_id"),
    )
    op.create_table(
        "acd_counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "acd_rr_cursors",
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("agent_id", AGENT_ID, nullable=False),
        sa.PrimaryKeyConstraint("queue"),
    )
    op.create_table(
        "acd_handle_times",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_acd_handle_times_queue", "acd_handle_times", ["queue", "id"])


def downgrade() -> None:
    op.drop_table("acd_handle_times")
    op.drop_table("acd_rr_cursors")
    op.drop_table("acd_counters")
    op.drop_table("acd_offers")
    op.drop_table("acd_waiting_calls")
    op.drop_table("acd_agent_skills")
    op.drop_table("acd_agents")
