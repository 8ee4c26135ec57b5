"""call_recordings: recorded caller-agent conversations, linked to their call

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

Queues with ``record: true`` (acd.yaml) record the agent bridge; each kept file gets a row here (see
ivr_engine/recordings). The retention sweep deletes file and row after ``recording_retention_days``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "call_recordings",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration", sa.Numeric(precision=10, scale=2, asdecimal=False), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_call_recordings_call_id", "call_recordings", ["call_id"])
    op.create_index("ix_call_recordings_started", "call_recordings", ["started"])


def downgrade() -> None:
    op.drop_index("ix_call_recordings_started", table_name="call_recordings")
    op.drop_index("ix_call_recordings_call_id", table_name="call_recordings")
    op.drop_table("call_recordings")
