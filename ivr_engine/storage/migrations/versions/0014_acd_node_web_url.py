"""acd_nodes.web_url: where the other nodes reach a node's HTTP app

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

Each node of a multi-node centre writes its HTTP app's address with its heartbeat lease. A desk
control (hold, transfer, consult) or a supervisor's listen-in sent to a node that does not hold the
call's bridge is forwarded to the node that does (``ivr_engine.web.forward``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("acd_nodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("web_url", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("acd_nodes", schema=None) as batch_op:
        batch_op.drop_column("web_url")
