"""node log: spent_ms (left - entered, whole ms) and covering indexes for node statistics

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Adds ``node_events.spent_ms``, back-fills it from ``entered``/``left`` exactly as
``ivr_engine.storage.models.spent_ms`` computes it for new rows (microseconds, half a millisecond rounds
up), makes it NOT NULL, and adds the two covering indexes the node statistics read in order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Microseconds between the two timestamps. SQLite holds them as text 'YYYY-MM-DD HH:MM:SS.ffffff'
# (SQLAlchemy's format): whole seconds from strftime('%s') plus the six fraction digits.
_SQLITE_MICROS = (
    "((CAST(strftime('%s', \"left\") AS INTEGER) - CAST(strftime('%s', entered) AS INTEGER)) * 1000000"
    ' + CAST(substr("left", 21, 6) AS INTEGER) - CAST(substr(entered, 21, 6) AS INTEGER))'
)
_POSTGRES_MICROS = '(EXTRACT(EPOCH FROM ("left" - entered)) * 1000000)'


def upgrade() -> None:
    op.add_column("node_events", sa.Column("spent_ms", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        spent = f"(({_SQLITE_MICROS} + 500) / 1000)"
    else:
        spent = f"CAST(FLOOR(({_POSTGRES_MICROS} + 500) / 1000) AS INTEGER)"
    op.execute(f"UPDATE node_events SET spent_ms = {spent}")
    with op.batch_alter_table("node_events", schema=None) as batch_op:
        batch_op.alter_column("spent_ms", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(
            "ix_node_events_flow_node_spent", ["flow", "node", "spent_ms", "entered"], unique=False
        )
        batch_op.create_index(
            "ix_node_events_flow_node_outcome",
            ["flow", "node", "outcome", "node_type", "entered"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("node_events", schema=None) as batch_op:
        batch_op.drop_index("ix_node_events_flow_node_outcome")
        batch_op.drop_index("ix_node_events_flow_node_spent")
        batch_op.drop_column("spent_ms")
