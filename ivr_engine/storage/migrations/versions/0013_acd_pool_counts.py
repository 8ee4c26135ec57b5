"""acd_pools, acd_pool_members, acd_pool_counts: the ACD's pool counts kept instead of counted;
ix_acd_waiting_calls_heads: the queue heads found by index

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

A routing decision explains itself with the counts of the pool it chose from (the agents holding a
needed skill, per pass reason). Counting them walked every agent of the pool at every decision; the
store now keeps them for the pools it tracks (each queue's needed skills at each escalation stage): the
members of each pool with the skill reason they are passed over for, and the counts per bucket (that
reason, or the member's state). The trigger ``acd_agents_pool_counts`` moves an agent's skilled
memberships between state buckets when its state changes (see acd/sql_pools.py); on PostgreSQL it
locks the count rows in key order first, so concurrent transactions never deadlock on them.

``ix_acd_waiting_calls_heads`` (the calls not being offered, by queue, skills, priority band, then time)
lets PostgreSQL find the first call of each group by one index probe per group (acd/sql_queries.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_NOT_OFFERED = "offered_to IS NULL"
AGENT_ID = sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql")

_MOVE = """
    UPDATE acd_pool_counts SET agents = agents + (CASE WHEN bucket = NEW.state THEN 1 ELSE -1 END)
     WHERE bucket IN (OLD.state, NEW.state)
       AND pool IN (SELECT pool FROM acd_pool_members WHERE agent_id = NEW.id AND skill_reason IS NULL);
"""

_POSTGRES_FUNCTION = f"""
CREATE FUNCTION acd_pool_counts_follow_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM acd_pool_counts
      WHERE bucket IN (OLD.state, NEW.state)
        AND pool IN (SELECT pool FROM acd_pool_members WHERE agent_id = NEW.id AND skill_reason IS NULL)
      ORDER BY pool COLLATE "C", bucket COLLATE "C" FOR UPDATE;
    {_MOVE}
    RETURN NULL;
END
$$
"""

_POSTGRES_TRIGGER = """
CREATE TRIGGER acd_agents_pool_counts AFTER UPDATE OF state ON acd_agents
FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
EXECUTE FUNCTION acd_pool_counts_follow_state()
"""

_SQLITE_TRIGGER = f"""
CREATE TRIGGER acd_agents_pool_counts AFTER UPDATE OF state ON acd_agents
FOR EACH ROW WHEN OLD.state IS NOT NEW.state
BEGIN
    {_MOVE}
END
"""


def upgrade() -> None:
    op.create_table(
        "acd_pools",
        sa.Column("pool", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("pool"),
    )
    op.create_table(
        "acd_pool_members",
        sa.Column("agent_id", AGENT_ID, nullable=False),
        sa.Column("pool", sa.Text(), nullable=False),
        sa.Column("skill_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["acd_agents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pool"], ["acd_pools.pool"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("agent_id", "pool"),
    )
    op.create_table(
        "acd_pool_counts",
        sa.Column("pool", sa.Text(), nullable=False),
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("agents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["pool"], ["acd_pools.pool"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pool", "bucket"),
    )
    op.create_index("ix_acd_waiting_calls_heads", "acd_waiting_calls",
                    ["queue", "skills", "vip", "priority", "enqueued_at", "seq"],
                    postgresql_where=sa.text(_NOT_OFFERED), sqlite_where=sa.text(_NOT_OFFERED))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
        op.execute(_POSTGRES_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS acd_agents_pool_counts" +
               (" ON acd_agents" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS acd_pool_counts_follow_state()")
    op.drop_index("ix_acd_waiting_calls_heads", table_name="acd_waiting_calls")
    op.drop_table("acd_pool_counts")
    op.drop_table("acd_pool_members")
    op.drop_table("acd_pools")
