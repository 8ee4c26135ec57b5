"""return visits as callbacks: callbacks.kind ('callback' or 'return_visit') and callbacks.work_order

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

Closing a work order books a callback of kind ``return_visit`` for the order's customer
(``ivr_engine.workorders.visits``); the dialer places it like any callback.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="callback", nullable=False)
        )
        batch_op.add_column(sa.Column("work_order", sa.String(length=32), nullable=True))
        batch_op.create_check_constraint("ck_callbacks_kind", "kind IN ('callback', 'return_visit')")
        batch_op.create_index("ix_callbacks_work_order", ["work_order"])


def downgrade() -> None:
    op.execute("DELETE FROM callbacks WHERE kind = 'return_visit'")
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_index("ix_callbacks_work_order")
        batch_op.drop_constraint("ck_callbacks_kind", type_="check")
        batch_op.drop_column("work_order")
        batch_op.drop_column("kind")
