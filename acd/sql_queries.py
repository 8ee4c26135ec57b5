"""The statements of ``SqlStore``, built once with bound parameters and reused.

Building a SQLAlchemy statement costs far more than running a small one, so every statement here is
built once (per number of needed skills, or per dialect) and executed with its parameters; SQLAlchemy
then also reuses the compiled SQL. Each answers one ``AcdStore`` question in one statement, portable
between SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Delete,
    FromClause,
    Insert,
    Integer,
    Select,
    String,
    Table,
    TextClause,
    Update,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from acd.model import AgentState, PassReason, Skills
from acd.routing import NEAREST_FIRST, STATE_REASON
from acd.sql_tables import (
    AGENT_SKILLS,
    AGENTS,
    COUNTERS,
    HANDLE_TIMES,
    NODES,
    OFFERS,
    RR_CURSORS,
    WAITING_CALLS,
)

__all__ = [
    "EVERY_QUEUE_KEY",
    "HANDLE_TIMES_KEPT",
    "HANDLE_TIMES_PRUNED_EVERY",
    "SQL",
    "nearest_passed_query",
    "pool_counts_query",
    "pool_params",
    "upsert_statement",
]

HANDLE_TIMES_KEPT = 50
"""Handle times kept per queue (as ``MemoryStore``)."""
HANDLE_TIMES_PRUNED_EVERY = 16
"""A store deletes a queue's older handle times at every 16th it records for the queue: the queue holds
at most ``HANDLE_TIMES_KEPT + HANDLE_TIMES_PRUNED_EVERY`` rows per node, and a decision seldom pays for
the delete."""
EVERY_QUEUE_KEY = 0x41434400000001
"""The advisory lock of "every queue": outside ``hashtext``'s 32-bit range, so no queue's key."""

A, S, W, H = AGENTS.c, AGENT_SKILLS.c, WAITING_CALLS.c, HANDLE_TIMES.c
OF = OFFERS.c


def _in_state(state: AgentState) -> ColumnElement[bool]:
    """``state`` written into the SQL, not bound: a generic plan (PostgreSQL's choice for a statement
    psycopg prepared) still knows that few agents are ready, however many are on a call."""
    return A.state == literal_column(f"'{state.value}'", String())


QUEUE_ORDER: tuple[ColumnElement[Any], ...] = (W.vip.desc(), W.priority.desc(), W.enqueued_at, W.seq)
"""``WaitingCall.order`` in SQL: VIP first, then higher priority, then enqueue time and sequence."""


def _heads(*, many: bool) -> Select[Any]:
    """The first call not being offered of each (skills, priority band) group of a queue (of each of
    the ``queues`` when ``many``), in service order."""
    first = func.row_number().over(
        partition_by=(W.queue, W.skills, W.vip, W.priority), order_by=(W.enqueued_at, W.seq)
    ).label("first")
    queue = W.queue.in_(bindparam("queues", expanding=True)) if many else W.queue == bindparam("queue")
    ranked = select(WAITING_CALLS, first).where(queue, W.offered_to.is_(None))
    r = ranked.subquery().c
    columns = [r[c.name] for c in WAITING_CALLS.columns]
    order = (r.vip.desc(), r.priority.desc(), r.enqueued_at, r.seq)
    return select(*columns).where(r.first == 1).order_by(*order)


_HEADS_SKIP_SCAN = """
WITH RECURSIVE g AS (
    (SELECT w.* FROM acd_waiting_calls w WHERE w.offered_to IS NULL
      ORDER BY w.queue, w.skills, w.vip, w.priority, w.enqueued_at, w.seq LIMIT 1)
    UNION ALL
    SELECT n.* FROM g, LATERAL (
        SELECT w.* FROM acd_waiting_calls w
         WHERE w.offered_to IS NULL
           AND (w.queue, w.skills, w.vip, w.priority) > (g.queue, g.skills, g.vip, g.priority)
         ORDER BY w.queue, w.skills, w.vip, w.priority, w.enqueued_at, w.seq LIMIT 1) n
)
SELECT * FROM g WHERE g.queue = ANY(:queues)
ORDER BY g.vip DESC, g.priority DESC, g.enqueued_at, g.seq
"""


def _heads_skip_scan() -> TextClause:
    """``_heads(many=True)`` for PostgreSQL without reading every waiting call: a walk over
    ``ix_acd_waiting_calls_heads`` (the calls not being offered, by group then time) that takes each
    group's first entry and jumps past the group (a recursive "skip scan"): one index probe per
    (queue, skills, priority band) group, whatever the number of calls waiting."""
    return text(_HEADS_SKIP_SCAN).bindparams(bindparam("queues", type_=ARRAY(String)))


def _position() -> Select[Any]:
    """1 + the calls of the same queue ahead of a call in service order; no row if it is unknown."""
    o, m = WAITING_CALLS.alias("other").c, WAITING_CALLS.alias("me").c
    same_band = and_(o.vip == m.vip, o.priority == m.priority)
    ahead = or_(
        and_(o.vip == true(), m.vip == false()),
        and_(o.vip == m.vip, o.priority > m.priority),
        and_(same_band, o.enqueued_at < m.enqueued_at),
        and_(same_band, o.enqueued_at == m.enqueued_at, o.seq < m.seq),
    )
    count = select(func.count()).where(o.queue == m.queue, ahead).scalar_subquery()
    return select((count + 1).label("position")).where(m.call_id == bindparam("call_id"))


def _holding() -> Select[Any]:
    return select(AGENTS).join(AGENT_SKILLS, S.agent_id == A.id).where(S.skill == bindparam("skill"))


def _ready_count(by_skill: bool) -> Select[Any]:
    stmt = select(func.count()).select_from(AGENTS).where(_in_state(AgentState.READY))
    if by_skill:
        stmt = stmt.join(AGENT_SKILLS, S.agent_id == A.id).where(S.skill == bindparam("skill"))
    return stmt


def _ready_counts() -> Select[Any]:
    """(skill, ready agents holding it) per skill, then (``NULL``, every ready agent) and (``NULL``,
    every agent) told apart by ``ready``: what ``ready_count`` and ``agent_count`` answer, at once."""
    by_skill = (select(S.skill, true().label("ready"), func.count().label("agents"))
                .select_from(AGENTS.join(AGENT_SKILLS, S.agent_id == A.id))
                .where(_in_state(AgentState.READY)).group_by(S.skill))
    no_skill = literal(None, String()).label("skill")
    ready = select(no_skill, true(), func.count()).select_from(AGENTS).where(_in_state(AgentState.READY))
    everyone = select(no_skill, false(), func.count()).select_from(AGENTS)
    return union_all(by_skill, ready, everyone)  # type: ignore[return-value]


def _kept_handle_times() -> Delete:
    oldest_kept = (select(H.id).where(H.queue == bindparam("queue")).order_by(H.id.desc())
                   .offset(HANDLE_TIMES_KEPT - 1).limit(1).scalar_subquery())
    return delete(HANDLE_TIMES).where(H.queue == bindparam("queue"), H.id < oldest_kept)


class SQL:
    """The fixed statements (parameters named after the column they set or match)."""

    lock_queue: Select[Any] = select(func.pg_advisory_xact_lock(func.hashtext(bindparam("queue"))))
    lock_every_queue: Select[Any] = select(func.pg_advisory_xact_lock(literal(EVERY_QUEUE_KEY, BigInteger())))
    share_every_queue: Select[Any] = select(
        func.pg_advisory_xact_lock_shared(literal(EVERY_QUEUE_KEY, BigInteger())))
    agent: Select[Any] = select(AGENTS).where(A.id == bindparam("id"))
    agents: Select[Any] = select(AGENTS).order_by(A.id)
    agent_count: Select[Any] = select(func.count()).select_from(AGENTS)
    agents_in_state: Select[Any] = select(AGENTS).where(A.state == bindparam("state")).order_by(A.id)
    agents_with_skill: Select[Any] = _holding().order_by(A.id)
    ready_agents: Select[Any] = select(AGENTS).where(_in_state(AgentState.READY)).order_by(A.id)
    ready_agents_with_skill: Select[Any] = _holding().where(_in_state(AgentState.READY)).order_by(A.id)
    ready_agents_locked: Select[Any] = ready_agents.with_for_update(skip_locked=True, of=AGENTS)
    """PostgreSQL: the rows locked for the transaction, rows another one holds skipped."""
    ready_agents_with_skill_locked: Select[Any] = ready_agents_with_skill.with_for_update(
        skip_locked=True, of=AGENTS)
    ready_count: Select[Any] = _ready_count(by_skill=False)
    ready_count_with_skill: Select[Any] = _ready_count(by_skill=True)
    ready_counts: Select[Any] = _ready_counts()
    update_agent_same_skills: Update = update(AGENTS).where(
        A.id == bindparam("agent_id"), A.skills == bindparam("same_skills"))
    claim_agent_node: Update = (update(AGENTS).where(A.id == bindparam("agent_id"), A.node.is_(None))
                                .values(node=bindparam("node")))
    agents_on_calls_of: Select[Any] = (select(AGENTS).where(_in_state(AgentState.ON_CALL),
                                                            A.node.is_not_distinct_from(bindparam("node")))
                                       .order_by(A.id))
    delete_agent_skills: Delete = delete(AGENT_SKILLS).where(S.agent_id == bindparam("agent_id"))
    insert_agent_skill: Insert = insert(AGENT_SKILLS)

    call: Select[Any] = select(WAITING_CALLS).where(W.call_id == bindparam("call_id"))
    delete_call: Delete = delete(WAITING_CALLS).where(W.call_id == bindparam("call_id"))
    waiting: Select[Any] = select(WAITING_CALLS).where(W.queue == bindparam("queue")).order_by(*QUEUE_ORDER)
    enqueued_before: Select[Any] = (select(WAITING_CALLS)
                                    .where(W.queue == bindparam("queue"), W.enqueued_at <= bindparam("at"),
                                           W.node.is_not_distinct_from(bindparam("node")))
                                    .order_by(*QUEUE_ORDER))
    calls_of_node: Select[Any] = select(W.call_id).where(W.node == bindparam("node")).order_by(*QUEUE_ORDER)
    heads: Select[Any] = _heads(many=False)
    heads_of: Select[Any] = _heads(many=True)
    heads_of_postgres: TextClause = _heads_skip_scan()
    position: Select[Any] = _position()
    node_of: Select[Any] = select(W.node).where(W.call_id == bindparam("call_id"))

    offer: Select[Any] = select(OFFERS).where(OF.agent_id == bindparam("agent_id"))
    offers: Select[Any] = select(OFFERS).order_by(OF.agent_id)
    insert_offer: Insert = insert(OFFERS)
    delete_offer: Delete = delete(OFFERS).where(OF.agent_id == bindparam("agent_id"))

    bump_counter: Update = (update(COUNTERS).where(COUNTERS.c.name == bindparam("counter"))
                            .values(value=COUNTERS.c.value + 1).returning(COUNTERS.c.value))
    insert_counter: Insert = insert(COUNTERS)
    rr_cursor: Select[Any] = select(RR_CURSORS.c.agent_id).where(RR_CURSORS.c.queue == bindparam("queue"))
    handle_times: Select[Any] = (select(H.seconds).where(H.queue == bindparam("queue"))
                                 .order_by(H.id.desc()).limit(HANDLE_TIMES_KEPT))
    insert_handle_time: Insert = insert(HANDLE_TIMES)
    prune_handle_times: Delete = _kept_handle_times()

    notify: Select[Any] = select(func.pg_notify(bindparam("channel"), bindparam("payload")))
    expired_nodes: Select[Any] = (select(NODES.c.node).where(NODES.c.expires_at < bindparam("now"),
                                                             NODES.c.node != bindparam("node"))
                                  .order_by(NODES.c.node))
    expired_lease: Select[Any] = select(NODES.c.node).where(NODES.c.node == bindparam("node"),
                                                            NODES.c.expires_at < bindparam("now"))
    drop_lease: Delete = delete(NODES).where(NODES.c.node == bindparam("node"))
    agent_node: Select[Any] = (select(AGENTS.c.node, NODES.c.web_url)
                               .join_from(AGENTS, NODES, NODES.c.node == AGENTS.c.node)
                               .where(AGENTS.c.id == bindparam("agent")))


def pool_params(required: Skills) -> dict[str, Any]:
    """The parameters of ``pool_counts_query`` / ``nearest_passed_query`` for ``required``."""
    params: dict[str, Any] = {}
    for i, skill in enumerate(sorted(required)):
        params[f"skill{i}"] = skill
        params[f"level{i}"] = required[skill]
    return params


def _pool(needed: int) -> tuple[FromClause, ColumnElement[Any], ColumnElement[Any], ColumnElement[bool]]:
    """Agents joined to their level of each of ``needed`` skills: (from, holds a needed skill, reason,
    short of a needed skill).

    ``reason`` is ``routing.pass_reason``'s reason (skills in name order, then state), ``NULL`` when
    eligible. Everyone is in the pool when nothing is needed.
    """
    joined: FromClause = AGENTS
    levels: list[tuple[ColumnElement[Any], ColumnElement[Any]]] = []
    for i in range(needed):
        held = AGENT_SKILLS.alias(f"need{i}")
        joined = joined.outerjoin(held, and_(held.c.agent_id == A.id, held.c.skill == bindparam(f"skill{i}")))
        levels.append((held.c.level, bindparam(f"level{i}")))
    holds = or_(*(level.is_not(None) for level, _ in levels)) if levels else true()
    whens: list[tuple[ColumnElement[bool], str]] = []
    for level, minimum in levels:
        whens.append((level.is_(None), PassReason.MISSING_SKILL.value))
        whens.append((level < minimum, PassReason.LEVEL_TOO_LOW.value))
    whens += [(_in_state(state), reason.value) for state, reason in STATE_REASON.items()]
    short = [or_(level.is_(None), level < minimum) for level, minimum in levels]
    return joined, holds, case(*whens, else_=None), or_(*short) if short else false()


@functools.cache
def pool_counts_query(needed: int) -> Select[Any]:
    """(reason, or ``NULL`` for eligible; agents) over the agents holding one of ``needed`` skills."""
    joined, holds, reason, _ = _pool(needed)
    inner = select(reason.label("reason")).select_from(joined).where(holds).subquery()
    return select(inner.c.reason, func.count().label("agents")).group_by(inner.c.reason)


@functools.cache
def nearest_passed_query(needed: int) -> Select[Any]:
    """The agents holding one of ``needed`` skills but not eligible, by ``routing.nearest_key``.

    One branch per state, each walking ``ix_acd_agents_state`` (state, state_since, id) in order and
    stopping at ``limit``: the cost follows the named agents, not the pool. Every state but ready has a
    pass reason of its own, so only the ready branch tests the skills' levels (a short statement, quick
    for the server to plan).
    """
    joined, holds, _, short = _pool(needed)
    branches = []
    for rank, state in enumerate(NEAREST_FIRST):
        passed = short if state is AgentState.READY else true()
        branch = (select(A.id, literal_column(str(rank), Integer()).label("nearest")).select_from(joined)
                  .where(_in_state(state), holds, passed)
                  .order_by(A.state_since, A.id).limit(bindparam("limit")).subquery())
        branches.append(select(branch))
    nearest = union_all(*branches).subquery()
    return (select(AGENTS).join(nearest, nearest.c.id == A.id)
            .order_by(nearest.c.nearest, A.state_since, A.id).limit(bindparam("limit")))


@functools.cache
def upsert_statement(dialect: str, table: Table, keys: tuple[str, ...], keep: tuple[str, ...] = ()) -> Insert:
    """Insert a row, or update the one with the same ``keys`` (all columns but ``keep``)."""
    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    changed = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys + keep}
    upserted: Insert = stmt.on_conflict_do_update(index_elements=list(keys), set_=changed)
    return upserted
