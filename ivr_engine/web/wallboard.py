"""The supervisor wallboard's figures: live queues and agents from the ACD, today's figures from SQL.

Live: waiting calls and longest wait per queue, every agent with state and time in state (from
``AcdControl``). Today (since 00:00 UTC): offered, answered, abandoned, service level and abandon rate per
queue (``query_acd_stats``) and the funnel of the main flow (``query_funnel``). When the database cannot
be read the live part is still shown and ``note`` says why the rest is missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from acd import AgentState
from acd.live.api import AcdControl
from ivr_engine.clock import CentreTime
from ivr_engine.control.views import AgentView, QueueView
from ivr_engine.reports import AcdFilter, FunnelStep, ReportError, TimeWindow, query_acd_stats, query_funnel
from ivr_engine.reports.acd_stats import AcdFigures
from ivr_engine.reports.source import read
from ivr_engine.storage.database import Database

__all__ = ["QueueTile", "Wallboard", "build_wallboard", "today_window"]


@dataclass(frozen=True)
class QueueTile:
    name: str
    waiting: int
    longest_wait: float
    offered: int
    answered: int
    abandoned: int
    service_level: float | None
    abandon_rate: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "waiting": self.waiting,
            "longest_wait": round(self.longest_wait, 1),
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "service_level": self.service_level,
            "abandon_rate": self.abandon_rate,
        }


@dataclass(frozen=True)
class Wallboard:
    generated_at: datetime
    queues: tuple[QueueTile, ...]
    agents: tuple[AgentView, ...]
    flow: str
    funnel: tuple[FunnelStep, ...]
    sla_s: float
    note: str = ""

    def agents_by_state(self) -> dict[AgentState, int]:
        counts = dict.fromkeys(AgentState, 0)
        for agent in self.agents:
            counts[agent.state] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "sla_s": self.sla_s,
            "queues": [q.to_json() for q in self.queues],
            "agents": [a.to_json() for a in self.agents],
            "agents_by_state": {s.value: n for s, n in self.agents_by_state().items()},
            "funnel": {
                "flow": self.flow,
                "steps": [
                    {"node": s.node, "flow": s.flow, "reached": s.reached, "continued": s.continued,
                     "ended_here": s.ended_here}
                    for s in self.funnel
                ],
            },
            "note": self.note,
        }


def today_window(now: datetime, centre: CentreTime) -> TimeWindow:
    """The centre's local day holding ``now`` (midnight to midnight in its zone)."""
    since, until = centre.day_window(now)
    return TimeWindow(since=since, until=until)


async def build_wallboard(
    control: AcdControl,
    database: Database,
    *,
    clock: Callable[[], float],
    flow: str,
    sla_s: float,
    centre: CentreTime,
) -> Wallboard:
    """The wallboard now; the SQL runs in a worker thread."""
    now = clock()
    generated = datetime.fromtimestamp(now, UTC)
    live = {s.queue: QueueView.from_status(s, now) for s in control.queue_statuses()}
    agents = tuple(AgentView.from_agent(a, now) for a in sorted(control.agents(), key=lambda a: a.id))
    window = today_window(generated, centre)

    def work(connection: Connection) -> tuple[dict[str, AcdFigures], tuple[FunnelStep, ...]]:
        stats = query_acd_stats(connection, AcdFilter(window=window, sla_s=sla_s, zone=centre.name))
        return {f.queue: f for f in stats.queues}, query_funnel(connection, flow, window)

    note = ""
    try:
        figures, funnel = await asyncio.to_thread(read, database, work)
    except ReportError as exc:
        figures, funnel, note = {}, (), f"today's figures are unavailable: {exc}"
    tiles = tuple(_tile(name, live.get(name), figures.get(name)) for name in sorted({*live, *figures}))
    return Wallboard(generated, tiles, agents, flow, funnel, sla_s, note)


def _tile(name: str, live: QueueView | None, today: AcdFigures | None) -> QueueTile:
    return QueueTile(
        name=name,
        waiting=len(live.waiting) if live else 0,
        longest_wait=live.longest_wait if live else 0.0,
        offered=today.offered if today else 0,
        answered=today.answered if today else 0,
        abandoned=today.abandoned if today else 0,
        service_level=today.service_level if today else None,
        abandon_rate=today.abandon_rate if today else None,
    )
