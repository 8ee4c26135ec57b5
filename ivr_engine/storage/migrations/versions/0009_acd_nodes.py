"""acd_nodes: a heartbeat lease per node; acd_agents.node: the node holding an agent's call

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Several nodes share one ACD on PostgreSQL. Each renews its lease (``acd_nodes.expires_at``, ACD clock
seconds) from its tick loop; once a node's lease has expired a survivor releases what it held. While an
agent is on a call, ``acd_agents.node`` names the node that answered it (``NULL`` otherwise).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "acd_nodes",
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("node"),
    )
    with op.batch_alter_table("acd_agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("node", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("acd_agents", schema=None) as batch_op:
        batch_op.drop_column("node")
    op.drop_table("acd_nodes")
