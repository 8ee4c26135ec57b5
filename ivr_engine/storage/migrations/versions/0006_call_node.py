"""calls: the node that handled each call (``calls.node``, nullable)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Several Asterisk nodes, each with its own ``ivr serve``, may share one PostgreSQL database (``ivr lab up
--nodes N``). Each service stores its setting ``node_id`` on the calls it handles; rows written by a
single-node service, and every row from before this revision, have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("node", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("node")
