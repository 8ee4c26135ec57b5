"""callbacks placed: attempts, due time, claiming node, placed/connected times; callback_attempts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

The dialer (``acd.live.dialer``) claims a pending callback (status ``dialing``, ``node``), offers it to an
agent, dials the customer and records each attempt in ``callback_attempts``; the retry policy
(``acd.retry_policy``) puts it back in line (``due``) or gives it up.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OLD = "'pending', 'done', 'failed', 'cancelled'"
_NEW = "'pending', 'dialing', 'done', 'failed', 'cancelled'"


def upgrade() -> None:
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("due", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("node", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("placed", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("connected", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("agent_id", sa.String(length=64), nullable=True))
        batch_op.drop_constraint("ck_callbacks_status", type_="check")
        batch_op.create_check_constraint("ck_callbacks_status", f"status IN ({_NEW})")
    op.create_table(
        "callback_attempts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("callback_id", BIG_ID, nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callback_attempts_callback", "callback_attempts", ["callback_id", "started"])


def downgrade() -> None:
    op.drop_index("ix_callback_attempts_callback", table_name="callback_attempts")
    op.drop_table("callback_attempts")
    op.execute("UPDATE callbacks SET status = 'pending' WHERE status = 'dialing'")
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_constraint("ck_callbacks_status", type_="check")
        batch_op.create_check_constraint("ck_callbacks_status", f"status IN ({_OLD})")
        for column in ("agent_id", "connected", "placed", "node", "due", "attempts"):
            batch_op.drop_column(column)
