"""The funnel from a flow's entry node (the main menu) along the main path through the IVR.

The main path is read from the log, not the YAML: start at the node most calls of the flow enter first,
then repeatedly follow the edge most calls take next (never revisiting a node). Per step: calls that
reached the node, calls that went on to the next step, and calls that ended there (drop-off).
Counts are distinct calls. One SQL aggregate reads the node log in ``(call_id, seq)`` index order and
strings each call's in-window events into its path (``call_path``), then counts calls per distinct path;
Python tallies those few paths (a call's first node of the flow, the nodes it reached, each change of
node it made, and its last node, where it ended). No event is sorted and no window function runs.
A call still in progress (its ``calls`` row says ``in_progress``) has not ended anywhere yet: it counts
as reaching its nodes, not as dropping off at the last one logged (a queued caller's transfer node is
logged only when the transfer ends).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, case, func, select

from ivr_engine.reports.sql import TimeWindow, call_path, split_call_path
from ivr_engine.storage.models import IN_PROGRESS, Call, NodeEventRow

__all__ = ["FunnelStep", "NodeKey", "main_path", "query_funnel"]

NodeKey = tuple[str, str]
"""(flow, node)."""


@dataclass(frozen=True)
class FunnelStep:
    flow: str
    node: str
    reached: int
    continued: int
    ended_here: int
    entry_calls: int

    @property
    def reached_share(self) -> float:
        return self.reached / self.entry_calls if self.entry_calls else 0.0

    @property
    def drop_off_share(self) -> float:
        return self.ended_here / self.reached if self.reached else 0.0


def main_path(entry: NodeKey, successors: Mapping[NodeKey, Mapping[NodeKey, int]]) -> tuple[NodeKey, ...]:
    """Follow the most taken edge from ``entry``; ties go to the alphabetically first node."""
    path = [entry]
    seen = {entry}
    while True:
        options = [(count, key) for key, count in successors.get(path[-1], {}).items() if key not in seen]
        if not options:
            return tuple(path)
        best = min(options, key=lambda item: (-item[0], item[1]))[1]
        path.append(best)
        seen.add(best)


@dataclass
class _Tally:
    """Distinct-call counts over the calls' in-window paths, each path weighted by how many calls took it."""

    flow: str
    firsts: Counter[str] = field(default_factory=Counter)
    reached: Counter[NodeKey] = field(default_factory=Counter)
    ended: Counter[NodeKey] = field(default_factory=Counter)
    successors: dict[NodeKey, Counter[NodeKey]] = field(default_factory=dict)

    def add(self, path: tuple[NodeKey, ...], calls: int, *, ended: bool = True) -> None:
        first = next((node for flow, node in path if flow == self.flow), None)
        if first is not None:
            self.firsts[first] += calls
        if ended:
            self.ended[path[-1]] += calls
        for key in set(path):
            self.reached[key] += calls
        for a, b in set(itertools.pairwise(path)):
            if a != b:
                self.successors.setdefault(a, Counter())[b] += calls


def query_funnel(conn: Connection, flow: str, window: TimeWindow) -> tuple[FunnelStep, ...]:
    """The funnel of ``flow`` over calls whose events fall in ``window``; empty if the flow has no calls."""
    ev = NodeEventRow.__table__.c
    call = Call.__table__.c
    per_call = (
        select(ev.call_id, call_path(ev.seq, ev.flow, ev.node).label("path"))
        .where(window.clause(ev.entered))
        .group_by(ev.call_id)
        .subquery("per_call")
    )
    running = case((and_(call.id.is_not(None), call.disposition == IN_PROGRESS), 1), else_=0).label("running")
    paths = (
        select(per_call.c.path, running, func.count())
        .select_from(per_call.outerjoin(Call.__table__, call.id == per_call.c.call_id))
        .group_by(per_call.c.path, running)
    )
    tally = _Tally(flow)
    for text, in_progress, calls in conn.execute(paths):
        tally.add(split_call_path(text), int(calls), ended=not in_progress)
    if not tally.firsts:
        return ()
    entry: NodeKey = (flow, min(tally.firsts.items(), key=lambda item: (-item[1], item[0]))[0])
    path = main_path(entry, tally.successors)
    entry_calls = tally.reached[entry]
    return tuple(
        FunnelStep(
            flow=key[0],
            node=key[1],
            reached=tally.reached[key],
            continued=tally.successors.get(key, Counter())[path[i + 1]] if i + 1 < len(path) else 0,
            ended_here=tally.ended[key],
            entry_calls=entry_calls,
        )
        for i, key in enumerate(path)
    )
