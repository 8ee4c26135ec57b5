"""The tables ``acd.sql_store.SqlStore`` keeps the ACD's live state in (SQLite or PostgreSQL).

They live on their own ``METADATA`` so that the ACD's store does not depend on the service's storage
layer; ``acd.records.rows`` copies them onto the storage's ``Base.metadata`` and migration ``0005`` creates
them, so ``ivr db init`` makes them next to the service's own tables.

- ``acd_agents``: one row per agent with its live state. ``skills`` is the agent's skills as canonical
  JSON (sorted keys) so a row reads back as a whole ``Agent``; ``acd_agent_skills`` holds the same
  skills one row each, which is what the queries by skill use (ready agents holding a skill, a pool's
  counts per reason). Agent ids sort by code point on both databases (``COLLATE "C"`` on PostgreSQL),
  as Python sorts them.
- ``acd_waiting_calls``: one row per waiting call. ``skills`` (canonical JSON) is also the group key of
  ``AcdStore.heads``; ``node`` is the service node that owns the caller's channel (``NULL`` on one node).
- ``acd_offers``: keyed by agent, ``call_id`` unique: the database itself refuses a second offer for an
  agent or for a call.
- ``acd_agents.node``: while the agent is on a call, the node that answered it (its Asterisk holds the
  bridge); ``NULL`` otherwise and on one node.
- ``acd_nodes``: one heartbeat lease per node of a multi-node centre (``expires_at`` on the ACD clock);
  a node whose lease expired is released by a survivor (``acd.live.lease``). ``web_url``: where the
  other nodes reach the node's HTTP app (a desk control for a call it holds is forwarded there).
- ``acd_pools``, ``acd_pool_members``, ``acd_pool_counts``: the pools whose counts per pass reason are kept
  (``AcdStore.track_pools``: the needed skills of each queue at each escalation stage), each pool's
  members (the agents holding a needed skill, and which skill they lack or hold too low, ``NULL`` if
  none) and its counts per bucket: a skill reason for the members short of a skill, else the members'
  state. The store writes members and counts when a pool is tracked and when an agent's skills are
  written; the trigger ``acd_agents_pool_counts`` (migration 0013) moves a member between state buckets
  when the agent's state changes, so counting a pool is an index lookup, not a walk over its agents.
- ``acd_counters`` (the enqueue sequence), ``acd_rr_cursors`` (round-robin cursor per queue) and
  ``acd_handle_times`` (the last handle times per queue, for the expected wait).

Times are the ACD clock's float seconds (``DOUBLE PRECISION`` / ``REAL``: they read back exactly).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

__all__ = [
    "AGENTS",
    "AGENT_SKILLS",
    "COUNTERS",
    "HANDLE_TIMES",
    "METADATA",
    "NODES",
    "OFFERS",
    "POOLS",
    "POOL_COUNTS",
    "POOL_MEMBERS",
    "RR_CURSORS",
    "WAITING_CALLS",
]

METADATA = MetaData()

AgentId = String(64).with_variant(String(64, collation="C"), "postgresql")
"""Agent ids compare by code point on PostgreSQL whatever the database's collation (SQLite does anyway)."""
BigId = BigInteger().with_variant(Integer(), "sqlite")

AGENTS = Table(
    "acd_agents",
    METADATA,
    Column("id", AgentId, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("endpoint", String(200), nullable=False),
    Column("skills", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("state_since", Double, nullable=False),
    Column("pause_reason", String(100), nullable=False),
    Column("calls_taken", Integer, nullable=False),
    Column("last_call_end", Double),
    Column("current_call", String(64)),
    Column("current_queue", String(100)),
    Column("answered_at", Double),
    Column("wrap_up_until", Double),
    Column("node", String(64)),
    Index("ix_acd_agents_state", "state", "state_since", "id"),
)

AGENT_SKILLS = Table(
    "acd_agent_skills",
    METADATA,
    Column("agent_id", AgentId, ForeignKey("acd_agents.id", ondelete="CASCADE"), primary_key=True),
    Column("skill", String(100), primary_key=True),
    Column("level", SmallInteger, nullable=False),
    Index("ix_acd_agent_skills_skill", "skill", "agent_id", "level"),
)

WAITING_CALLS = Table(
    "acd_waiting_calls",
    METADATA,
    Column("call_id", String(64), primary_key=True),
    Column("queue", String(100), nullable=False),
    Column("caller", String(64), nullable=False),
    Column("enqueued_at", Double, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("skills", Text, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("vip", Boolean, nullable=False),
    Column("predicted_wait", Double),
    Column("offered_to", AgentId),
    Column("node", String(64)),
    Index("ix_acd_waiting_calls_queue", "queue", "enqueued_at", "seq"),
    Index("ix_acd_waiting_calls_heads", "queue", "skills", "vip", "priority", "enqueued_at", "seq",
          postgresql_where=text("offered_to IS NULL"), sqlite_where=text("offered_to IS NULL")),
)

OFFERS = Table(
    "acd_offers",
    METADATA,
    Column("agent_id", AgentId, ForeignKey("acd_agents.id"), primary_key=True),
    Column("call_id", String(64), nullable=False),
    Column("queue", String(100), nullable=False),
    Column("at", Double, nullable=False),
    Column("expires_at", Double, nullable=False),
    Column("decision", Text, nullable=False),
    UniqueConstraint("call_id", name="uq_acd_offers_call_id"),
)

COUNTERS = Table(
    "acd_counters",
    METADATA,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

RR_CURSORS = Table(
    "acd_rr_cursors",
    METADATA,
    Column("queue", String(100), primary_key=True),
    Column("agent_id", AgentId, nullable=False),
)

HANDLE_TIMES = Table(
    "acd_handle_times",
    METADATA,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("queue", String(100), nullable=False),
    Column("seconds", Double, nullable=False),
    Index("ix_acd_handle_times_queue", "queue", "id"),
)

NODES = Table(
    "acd_nodes",
    METADATA,
    Column("node", String(64), primary_key=True),
    Column("expires_at", Double, nullable=False),
    Column("web_url", String(200)),
)

POOLS = Table(
    "acd_pools",
    METADATA,
    Column("pool", Text, primary_key=True),
)
"""A tracked pool: its needed skills as canonical JSON (``sql_codec.skills_text``)."""

POOL_MEMBERS = Table(
    "acd_pool_members",
    METADATA,
    Column("agent_id", AgentId, ForeignKey("acd_agents.id", ondelete="CASCADE"), primary_key=True),
    Column("pool", Text, ForeignKey("acd_pools.pool", ondelete="CASCADE"), primary_key=True),
    Column("skill_reason", String(32)),
)
"""An agent holding a needed skill of a pool; ``skill_reason``: the pass reason of the first needed
skill (by name) it lacks or holds too low, ``NULL`` if it has them all (it counts under its state)."""

POOL_COUNTS = Table(
    "acd_pool_counts",
    METADATA,
    Column("pool", Text, ForeignKey("acd_pools.pool", ondelete="CASCADE"), primary_key=True),
    Column("bucket", String(32), primary_key=True),
    Column("agents", Integer, nullable=False),
)
"""A pool's members per bucket: a skill reason (``PassReason`` value) or an agent state (value)."""
