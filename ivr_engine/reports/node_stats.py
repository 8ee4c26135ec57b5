"""IVR node statistics: per node visits, exits per edge, hang-ups, timeouts, invalid inputs and time spent.

Two SQL aggregates over ``node_events`` (the same SQL on SQLite and PostgreSQL), each read in the order
of a covering index so neither sorts events: exit counts ``GROUP BY flow, node, outcome``, and a histogram
of time spent ``GROUP BY flow, node, spent_ms`` (``spent_ms`` is stored on insert). Percentiles are exact,
at millisecond resolution, by nearest rank over that histogram: the median averages the two middle
values when the count is even, p90 is the value at rank ceil(0.9 n).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import groupby

from sqlalchemy import ColumnElement, Connection, func, select

from ivr_engine.reports.sql import TimeWindow
from ivr_engine.storage.models import NodeEventRow

__all__ = ["EdgeCount", "NodeFilter", "NodeStat", "query_node_stats"]

HANGUP = "hangup"
TIMEOUT = "timeout"
INVALID = "invalid"


@dataclass(frozen=True)
class NodeFilter:
    flow: str | None = None
    window: TimeWindow = field(default_factory=TimeWindow)


@dataclass(frozen=True)
class EdgeCount:
    outcome: str
    count: int


@dataclass(frozen=True)
class NodeStat:
    flow: str
    node: str
    node_type: str
    visits: int
    hangups: int
    timeouts: int
    invalid: int
    median_s: float
    p90_s: float
    exits: tuple[EdgeCount, ...]


def _events_where(filters: NodeFilter) -> list[ColumnElement[bool]]:
    table = NodeEventRow.__table__.c
    clauses: list[ColumnElement[bool]] = [filters.window.clause(table.entered)]
    if filters.flow is not None:
        clauses.append(table.flow == filters.flow)
    return clauses


def query_node_stats(conn: Connection, filters: NodeFilter) -> tuple[NodeStat, ...]:
    """Per-node figures, ordered by flow, then most visited first."""
    outcomes = _outcome_counts(conn, filters)
    spent = _spent_percentiles(conn, filters)
    stats = [
        NodeStat(
            flow=key[0],
            node=key[1],
            node_type=node.node_type,
            visits=sum(node.exits.values()),
            hangups=node.exits.get(HANGUP, 0),
            timeouts=node.exits.get(TIMEOUT, 0),
            invalid=node.exits.get(INVALID, 0),
            median_s=spent[key][0],
            p90_s=spent[key][1],
            exits=tuple(
                EdgeCount(outcome, count)
                for outcome, count in sorted(node.exits.items(), key=lambda item: (-item[1], item[0]))
            ),
        )
        for key, node in outcomes.items()
    ]
    return tuple(sorted(stats, key=lambda s: (s.flow, -s.visits, s.node)))


@dataclass
class _Outcomes:
    node_type: str = ""
    exits: dict[str, int] = field(default_factory=dict)


def _outcome_counts(conn: Connection, filters: NodeFilter) -> dict[tuple[str, str], _Outcomes]:
    """Exits per outcome and the node type, read in ``ix_node_events_flow_node_outcome`` order."""
    ev = NodeEventRow.__table__.c
    nodes: dict[tuple[str, str], _Outcomes] = defaultdict(_Outcomes)
    for flow, node, outcome, node_type, count in conn.execute(
        select(ev.flow, ev.node, ev.outcome, func.max(ev.node_type), func.count())
        .where(*_events_where(filters))
        .group_by(ev.flow, ev.node, ev.outcome)
    ):
        entry = nodes[(flow, node)]
        entry.node_type = max(entry.node_type, node_type)
        entry.exits[outcome] = int(count)
    return nodes


def _spent_percentiles(conn: Connection, filters: NodeFilter) -> dict[tuple[str, str], tuple[float, float]]:
    """(median, p90) in seconds per node, from how many visits spent each whole millisecond.

    The counts come in ``(flow, node, spent_ms)`` order straight from ``ix_node_events_flow_node_spent``;
    walking them cumulatively finds the values at the median and p90 ranks without sorting any events.
    """
    ev = NodeEventRow.__table__.c
    result: dict[tuple[str, str], tuple[float, float]] = {}
    rows = conn.execute(
        select(ev.flow, ev.node, ev.spent_ms, func.count())
        .where(*_events_where(filters))
        .group_by(ev.flow, ev.node, ev.spent_ms)
        .order_by(ev.flow, ev.node, ev.spent_ms)
    )
    for key, group in groupby(rows, key=lambda row: (row[0], row[1])):
        histogram = [(int(row[2]), int(row[3])) for row in group]
        n = sum(count for _, count in histogram)
        low, high, p90 = _values_at(histogram, ((n + 1) // 2, (n + 2) // 2, (9 * n + 9) // 10))
        result[key] = (round((low + high) / 2000, 3), round(p90 / 1000, 3))
    return result


def _values_at(histogram: list[tuple[int, int]], ranks: tuple[int, ...]) -> tuple[int, ...]:
    """The values at 1-based ``ranks`` (ascending) of the sorted multiset ``histogram`` (value, count)."""
    found: list[int] = []
    seen = 0
    pending = iter(ranks)
    rank = next(pending, None)
    for value, count in histogram:
        seen += count
        while rank is not None and rank <= seen:
            found.append(value)
            rank = next(pending, None)
        if rank is None:
            break
    return tuple(found)
