"""ACD statistics from ``queue_calls``, ``survey_responses`` and ``calls``, computed by SQL aggregates.

Definitions (the usual call-centre ones, stated so nobody has to guess):
- offered: calls that entered the queue in the window (``enqueued``), whatever became of them, except
  the calls that never waited because no agent was logged in for the queue (outcome ``no_agents``):
  those are counted on their own (``no_agents``) and are in no rate below;
- answered / abandoned / overflow / callback / no agents: by the queue call's outcome;
- abandon rate = abandoned / offered;
- service level = calls answered within the threshold (``actual_wait_s <= sla_s``) / offered;
- ASA (average speed of answer) = mean wait of answered calls;
- AHT (average handle time) = mean ``handle_s`` of answered calls that have ended;
- wait prediction error = mean |predicted - actual| wait over calls having both;
- hour-of-day profile: the volume by the centre's local hour (0-23), summed over the window's days;
- agent login, pause and occupancy: see ``agent_time``; calls per agent per day: see ``agent_stats``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, or_, select

from acd.records.rows import AgentRow, QueueCallRow, QueueOutcome
from ivr_engine.reports.agent_stats import AgentDay, query_agent_days, query_agent_times
from ivr_engine.reports.agent_time import AgentTime
from ivr_engine.reports.sql import Bucket, TimeWindow, time_bucket
from ivr_engine.storage.models import Call, SurveyResponse

__all__ = [
    "AcdFigures",
    "AcdFilter",
    "AcdStats",
    "AgentFigures",
    "OutcomeCount",
    "VolumeBucket",
    "query_acd_stats",
]


@dataclass(frozen=True)
class AcdFilter:
    queue: str | None = None
    agent: str | None = None
    window: TimeWindow = field(default_factory=TimeWindow)
    by: Bucket = Bucket.HOUR
    sla_s: float = 20.0
    zone: str = "UTC"
    """The centre's IANA zone: volume buckets are its local hours and days."""
    now: datetime | None = None
    """The service clock's "now": agent time ends here if ``until`` is later or open (default: wall clock)."""


@dataclass(frozen=True)
class AcdFigures:
    """Figures of one queue (or of all queues when ``queue`` is ``"(all)"``)."""

    queue: str
    offered: int
    answered: int
    abandoned: int
    overflow: int
    callbacks: int
    no_agents: int
    answered_in_sla: int
    asa_s: float | None
    aht_s: float | None
    max_wait_s: float | None
    prediction_error_s: float | None

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned / self.offered if self.offered else None

    @property
    def service_level(self) -> float | None:
        return self.answered_in_sla / self.offered if self.offered else None


@dataclass(frozen=True)
class AgentFigures:
    agent_id: str
    name: str
    answered: int
    asa_s: float | None
    aht_s: float | None
    survey_responses: int
    survey_average: float | None


@dataclass(frozen=True)
class OutcomeCount:
    outcome: str
    calls: int


@dataclass(frozen=True)
class VolumeBucket:
    """Calls in one hour or day: all calls that reached the service, and the queued ones."""

    period: str
    calls: int | None  # None when the report is limited to a queue or agent
    offered: int
    answered: int
    abandoned: int


@dataclass(frozen=True)
class AcdStats:
    total: AcdFigures
    queues: tuple[AcdFigures, ...]
    agents: tuple[AgentFigures, ...]
    outcomes: tuple[OutcomeCount, ...]
    volume: tuple[VolumeBucket, ...]
    profile: tuple[VolumeBucket, ...] = ()
    """The volume per local hour of day, ``period`` ``"00"`` to ``"23"``, all 24 hours."""
    agent_times: tuple[AgentTime, ...] = ()
    agent_days: tuple[AgentDay, ...] = ()


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _figures(queue: str, row: Sequence[Any]) -> AcdFigures:
    offered, answered, abandoned, overflow, callbacks, no_agents, in_sla, asa, aht, max_wait, error = row
    return AcdFigures(
        queue=queue,
        offered=int(offered),
        answered=int(answered),
        abandoned=int(abandoned),
        overflow=int(overflow),
        callbacks=int(callbacks),
        no_agents=int(no_agents),
        answered_in_sla=int(in_sla),
        asa_s=_round(asa),
        aht_s=_round(aht),
        max_wait_s=_round(max_wait),
        prediction_error_s=_round(error),
    )


def _offered(outcome: ColumnElement[str | None]) -> ColumnElement[bool]:
    """A queue stay that counts as offered: still waiting, or left the queue any way but ``no_agents``."""
    return or_(outcome.is_(None), outcome != QueueOutcome.NO_AGENTS.value)


def query_acd_stats(conn: Connection, filters: AcdFilter) -> AcdStats:
    qc = QueueCallRow.__table__.c
    where: list[ColumnElement[bool]] = [filters.window.clause(qc.enqueued)]
    if filters.queue is not None:
        where.append(qc.queue == filters.queue)
    if filters.agent is not None:
        where.append(qc.agent_id == filters.agent)
    answered = qc.outcome == QueueOutcome.ANSWERED.value
    figures = (
        _count_if(_offered(qc.outcome)),
        _count_if(answered),
        _count_if(qc.outcome == QueueOutcome.ABANDONED.value),
        _count_if(qc.outcome == QueueOutcome.OVERFLOW.value),
        _count_if(qc.outcome == QueueOutcome.CALLBACK.value),
        _count_if(qc.outcome == QueueOutcome.NO_AGENTS.value),
        _count_if(answered & (qc.actual_wait_s <= filters.sla_s)),
        func.avg(case((answered, qc.actual_wait_s))),
        func.avg(case((answered, qc.handle_s))),
        func.max(qc.actual_wait_s),
        func.avg(func.abs(qc.predicted_wait_s - qc.actual_wait_s)),
    )

    total_row = conn.execute(select(*figures).where(*where)).one()
    total = _figures("(all)", tuple(total_row))
    queues = tuple(
        _figures(row[0], tuple(row[1:]))
        for row in conn.execute(
            select(qc.queue, *figures).where(*where).group_by(qc.queue).order_by(qc.queue)
        )
    )
    outcomes = tuple(
        OutcomeCount(outcome or "waiting", int(calls))
        for outcome, calls in conn.execute(
            select(qc.outcome, func.count())
            .where(*where)
            .group_by(qc.outcome)
            .order_by(func.count().desc(), qc.outcome)
        )
    )
    volume = _volume(conn, filters, where)
    hourly = volume if filters.by is Bucket.HOUR else _volume(conn, replace(filters, by=Bucket.HOUR), where)
    now = filters.now if filters.now is not None else datetime.now(UTC)
    return AcdStats(
        total=total,
        queues=queues,
        agents=_agents(conn, filters, where),
        outcomes=outcomes,
        volume=volume,
        profile=hour_profile(hourly, filters.queue is not None or filters.agent is not None),
        agent_times=query_agent_times(conn, filters.window, now, filters.agent),
        agent_days=query_agent_days(conn, where, filters.zone),
    )


def hour_profile(hourly: tuple[VolumeBucket, ...], limited: bool) -> tuple[VolumeBucket, ...]:
    """Fold ``YYYY-MM-DD HH:00`` buckets into the 24 hours of the day (every hour, zeros included)."""
    sums = {f"{h:02d}": [0, 0, 0, 0] for h in range(24)}
    for bucket in hourly:
        acc = sums[bucket.period[11:13]]
        for i, value in enumerate((bucket.calls or 0, bucket.offered, bucket.answered, bucket.abandoned)):
            acc[i] += value
    return tuple(
        VolumeBucket(hour, None if limited else calls, offered, answered, abandoned)
        for hour, (calls, offered, answered, abandoned) in sums.items()
    )


def _agents(
    conn: Connection, filters: AcdFilter, where: list[ColumnElement[bool]]
) -> tuple[AgentFigures, ...]:
    qc = QueueCallRow.__table__.c
    ag = AgentRow.__table__.c
    sr = SurveyResponse.__table__.c
    handled = {
        agent_id: (int(n), _round(asa), _round(aht))
        for agent_id, n, asa, aht in conn.execute(
            select(qc.agent_id, func.count(), func.avg(qc.actual_wait_s), func.avg(qc.handle_s))
            .where(*where, qc.outcome == QueueOutcome.ANSWERED.value, qc.agent_id.is_not(None))
            .group_by(qc.agent_id)
        )
    }
    survey_where: list[ColumnElement[bool]] = [filters.window.clause(sr.created), sr.agent_id.is_not(None)]
    if filters.agent is not None:
        survey_where.append(sr.agent_id == filters.agent)
    if filters.queue is not None:
        survey_where.append(
            sr.call_id.in_(select(qc.call_id).where(qc.queue == filters.queue, qc.agent_id == sr.agent_id))
        )
    surveys = {
        agent_id: (int(n), _round(avg))
        for agent_id, n, avg in conn.execute(
            select(sr.agent_id, func.count(), func.avg(sr.score)).where(*survey_where).group_by(sr.agent_id)
        )
    }
    names: dict[str, str] = {row.id: row.name for row in conn.execute(select(ag.id, ag.name))}
    return tuple(
        AgentFigures(
            agent_id=agent_id,
            name=names.get(agent_id, ""),
            answered=handled.get(agent_id, (0, None, None))[0],
            asa_s=handled.get(agent_id, (0, None, None))[1],
            aht_s=handled.get(agent_id, (0, None, None))[2],
            survey_responses=surveys.get(agent_id, (0, None))[0],
            survey_average=surveys.get(agent_id, (0, None))[1],
        )
        for agent_id in sorted(set(handled) | set(surveys))
    )


def _volume(
    conn: Connection, filters: AcdFilter, where: list[ColumnElement[bool]]
) -> tuple[VolumeBucket, ...]:
    qc = QueueCallRow.__table__.c
    calls = Call.__table__.c
    queued_period = time_bucket(qc.enqueued, filters.by, filters.zone).label("period")
    queued = {
        period: (int(offered), int(n_answered), int(n_abandoned))
        for period, offered, n_answered, n_abandoned in conn.execute(
            select(
                queued_period,
                _count_if(_offered(qc.outcome)),
                _count_if(qc.outcome == QueueOutcome.ANSWERED.value),
                _count_if(qc.outcome == QueueOutcome.ABANDONED.value),
            )
            .where(*where)
            .group_by(queued_period)
        )
    }
    all_calls: dict[str, int] = {}
    limited = filters.queue is not None or filters.agent is not None
    if not limited:
        call_period = time_bucket(calls.started, filters.by, filters.zone).label("period")
        all_calls = {
            period: int(n)
            for period, n in conn.execute(
                select(call_period, func.count())
                .where(filters.window.clause(calls.started))
                .group_by(call_period)
            )
        }
    return tuple(
        VolumeBucket(period, None if limited else all_calls.get(period, 0), *queued.get(period, (0, 0, 0)))
        for period in sorted(set(queued) | set(all_calls))
    )
