"""The supervisor wallboard's figures: live queues and agents from the ACD, today's figures from SQL.

Live: waiting calls, longest wait, ready and staffed agents (logged in and skilled for the queue) per
queue, every agent with state and time in state (from ``AcdControl``). Today (the centre's local day):
offered, answered, abandoned, service level (with its band: ``ServiceLevelBands``), ASA, AHT and abandon
rate per queue (``query_acd_stats``), callbacks still pending per queue, and the funnel of the main flow
(``query_funnel``). When the database cannot be read the live part is still shown and ``note`` says why
the rest is missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from acd import AgentState, callback_of
from acd.live.api import AcdControl
from acd.records.rows import CallbackKind, CallbackRow, CallbackStatus
from ivr_engine.clock import CentreTime
from ivr_engine.control.views import AgentView, QueueView
from ivr_engine.reports import AcdFilter, FunnelStep, ReportError, TimeWindow, query_acd_stats, query_funnel
from ivr_engine.reports.acd_stats import AcdFigures
from ivr_engine.reports.source import read
from ivr_engine.storage.database import Database

__all__ = ["QueueTile", "ServiceLevelBands", "Wallboard", "build_wallboard", "today_window"]


@dataclass(frozen=True)
class ServiceLevelBands:
    """A queue's service level is ``good`` at or above ``target``, ``warning`` at or above ``warning``,
    else ``bad`` (settings ``service_level_target``, ``service_level_warning``: fractions)."""

    target: float = 0.8
    warning: float = 0.6

    def __post_init__(self) -> None:
        if not 0 <= self.warning <= self.target <= 1:
            raise ValueError(f"service level bands need 0 <= warning ({self.warning}) <= target "
                             f"({self.target}) <= 1")

    def band(self, level: float | None) -> str | None:
        if level is None:
            return None
        if level >= self.target:
            return "good"
        return "warning" if level >= self.warning else "bad"


@dataclass(frozen=True)
class QueueTile:
    name: str
    waiting: int
    longest_wait: float
    ready: int
    staffed: int
    """Agents logged in and skilled for the queue (any state but logged out)."""
    offered: int
    answered: int
    abandoned: int
    service_level: float | None
    service_band: str | None
    asa_s: float | None
    aht_s: float | None
    abandon_rate: float | None
    callbacks_pending: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "waiting": self.waiting,
            "longest_wait": round(self.longest_wait, 1),
            "ready": self.ready,
            "staffed": self.staffed,
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "service_level": self.service_level,
            "service_band": self.service_band,
            "asa_s": self.asa_s,
            "aht_s": self.aht_s,
            "abandon_rate": self.abandon_rate,
            "callbacks_pending": self.callbacks_pending,
        }


@dataclass(frozen=True)
class Wallboard:
    generated_at: datetime
    queues: tuple[QueueTile, ...]
    agents: tuple[AgentView, ...]
    flow: str
    funnel: tuple[FunnelStep, ...]
    sla_s: float
    bands: ServiceLevelBands = ServiceLevelBands()
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
            "service_level_target": self.bands.target,
            "service_level_warning": self.bands.warning,
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


_Today = tuple[dict[str, AcdFigures], tuple[FunnelStep, ...], dict[str, int]]
"""Today's figures per queue, the funnel, pending callbacks per queue."""


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
    bands: ServiceLevelBands | None = None,
) -> Wallboard:
    """The wallboard now; the SQL runs in a worker thread."""
    now = clock()
    generated = datetime.fromtimestamp(now, UTC)
    live = {s.queue: QueueView.from_status(s, now) for s in control.queue_statuses()}
    agents = tuple(AgentView.from_agent(a, now) for a in sorted(control.agents(), key=lambda a: a.id))
    window = today_window(generated, centre)

    bands = bands or ServiceLevelBands()

    def work(connection: Connection) -> _Today:
        stats = query_acd_stats(connection, AcdFilter(window=window, sla_s=sla_s, zone=centre.name))
        funnel = query_funnel(connection, flow, window)
        return {f.queue: f for f in stats.queues}, funnel, _pending(connection, generated)

    note = ""
    try:
        figures, funnel, pending = await asyncio.to_thread(read, database, work)
    except ReportError as exc:
        figures, funnel, pending, note = {}, (), {}, f"today's figures are unavailable: {exc}"
    names = sorted({*live, *figures})
    tiles = tuple(_tile(name, live.get(name), figures.get(name), pending.get(name, 0), bands)
                  for name in names)
    return Wallboard(generated, tiles, agents, flow, funnel, sla_s, bands, note)


def _pending(connection: Connection, now: datetime) -> dict[str, int]:
    """Callbacks booked and not placed yet, per queue (whenever they were booked): in line for a retry or
    their turn, or in the ACD waiting for an agent (``dialing``); a work order's return visit only once
    it is due (closing books it a day or so ahead)."""
    cb = CallbackRow.__table__.c
    open_ = (CallbackStatus.PENDING.value, CallbackStatus.DIALING.value)
    counted = or_(cb.kind == CallbackKind.CALLBACK.value, cb.requested <= now)  # a visit: requested = due
    rows = connection.execute(
        select(cb.queue, func.count()).where(cb.status.in_(open_), counted).group_by(cb.queue)
    )
    return {str(queue): int(n) for queue, n in rows}


def _tile(name: str, live: QueueView | None, today: AcdFigures | None, pending: int,
          bands: ServiceLevelBands) -> QueueTile:
    by_state = live.agents_by_state if live else {}
    level = today.service_level if today else None
    # Callbacks waiting in the ACD for an agent are counted with the pending callbacks, not as callers
    # on hold (their place in line dates from the booking: it would be the longest wait by far).
    on_hold = [w for w in live.waiting if callback_of(w.call_id) is None] if live else []
    return QueueTile(
        name=name,
        waiting=len(on_hold),
        longest_wait=max((w.waited for w in on_hold), default=0.0),
        ready=by_state.get(AgentState.READY, 0),
        staffed=sum(n for state, n in by_state.items() if state is not AgentState.LOGGED_OUT),
        offered=today.offered if today else 0,
        answered=today.answered if today else 0,
        abandoned=today.abandoned if today else 0,
        service_level=level,
        service_band=bands.band(level),
        asa_s=today.asa_s if today else None,
        aht_s=today.aht_s if today else None,
        abandon_rate=today.abandon_rate if today else None,
        callbacks_pending=pending,
    )
