"""node_entries: the node each live call is in, so a crash still tells where its calls were

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

One row per live call (``call_id``), replaced at every node entered and deleted when the call ends. A
call whose service died leaves its row; the sweep that closes the call as ``lost`` writes the node to
``node_events`` (outcome ``lost``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "node_entries",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(length=100), nullable=False),
        sa.Column("node", sa.String(length=100), nullable=False),
        sa.Column("node_type", sa.String(length=32), nullable=False),
        sa.Column("entered", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("call_id"),
    )


def downgrade() -> None:
    op.drop_table("node_entries")
