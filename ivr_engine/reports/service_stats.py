"""The closed loop in figures: survey answers per question and per agent, callbacks, voicemails and
work orders (by type, department, urgency; overdue and repeat rates, time to close; return visits).

Everything is counted over rows created inside the window (``TimeWindow``); "overdue" is as of ``now``
(the service clock), so a report of last week still says which of its orders are late today.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, distinct, func, select

from acd.records.rows import CallbackKind, CallbackRow
from ivr_engine.reports.sql import TimeWindow
from ivr_engine.storage.models import NodeEventRow, SurveyResponse, Voicemail
from ivr_engine.workorders.model import OrderState
from ivr_engine.workorders.rows import WorkOrderRow

__all__ = [
    "CallbackFigures",
    "CountRow",
    "OrderGroup",
    "QuestionFigures",
    "ReturnVisitFigures",
    "ServiceFilter",
    "ServiceStats",
    "SurveyAgentFigures",
    "query_service_stats",
]

SCORES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class ServiceFilter:
    window: TimeWindow = field(default_factory=TimeWindow)
    now: datetime | None = None
    """When "overdue" is judged (None: no order counts as overdue)."""


@dataclass(frozen=True)
class QuestionFigures:
    survey: str
    question: str
    responses: int
    average: float | None
    distribution: tuple[int, ...]
    """Answers scoring 1, 2, 3, 4, 5."""
    response_rate: float | None
    """Answers / calls that reached a survey node of that survey's flow (None: no such call)."""


@dataclass(frozen=True)
class SurveyAgentFigures:
    agent_id: str
    calls: int
    """Calls with at least one answer about this agent."""
    responses: int
    average: float | None


@dataclass(frozen=True)
class CountRow:
    key: str
    count: int


@dataclass(frozen=True)
class CallbackFigures:
    """Callbacks booked in the window and what became of them (``acd.live.dialer``)."""

    booked: int
    placed: int
    """Dialled at least once."""
    connected: int
    """The customer answered and talked to an agent."""
    abandoned: int
    """Given up after the last unanswered attempt (status ``failed``)."""
    attempts: int
    avg_minutes_to_callback: float | None
    """From joining the queue (the place the callback kept) to the customer answering."""


@dataclass(frozen=True)
class ReturnVisitFigures:
    """The return visits of the work orders created in the window (``ivr_engine.workorders.visits``)."""

    due: int
    """Orders closed: a return visit follows each."""
    placed: int
    """Visit callbacks dialled at least once."""
    connected: int
    """...that the customer answered."""
    satisfied: int
    unsatisfied: int
    unreached: int
    """Recorded by an agent, or by the dialer when it gave the visit up."""

    @property
    def satisfaction_rate(self) -> float | None:
        """Satisfied / customers who gave an answer."""
        answered = self.satisfied + self.unsatisfied
        return self.satisfied / answered if answered else None


@dataclass(frozen=True)
class OrderGroup:
    """Work orders sharing a type, a department or an urgency."""

    key: str
    opened: int
    closed: int
    overdue: int
    repeats: int
    avg_hours_to_close: float | None

    @property
    def repeat_rate(self) -> float | None:
        return self.repeats / self.opened if self.opened else None

    @property
    def overdue_rate(self) -> float | None:
        open_now = self.opened - self.closed
        return self.overdue / open_now if open_now else None


@dataclass(frozen=True)
class ServiceStats:
    questions: tuple[QuestionFigures, ...]
    survey_agents: tuple[SurveyAgentFigures, ...]
    callbacks: tuple[CountRow, ...]
    """By status."""
    callbacks_placed: CallbackFigures
    voicemails: tuple[CountRow, ...]
    """By state: new, heard, and each closing outcome."""
    by_type: tuple[OrderGroup, ...]
    by_department: tuple[OrderGroup, ...]
    by_urgency: tuple[OrderGroup, ...]
    states: tuple[CountRow, ...]
    return_visits: ReturnVisitFigures


def query_service_stats(conn: Connection, filters: ServiceFilter) -> ServiceStats:
    return ServiceStats(
        questions=_questions(conn, filters.window),
        survey_agents=_survey_agents(conn, filters.window),
        callbacks=_callbacks(conn, filters.window),
        callbacks_placed=_callbacks_placed(conn, filters.window),
        voicemails=_voicemails(conn, filters.window),
        **_orders(conn, filters),
        return_visits=_return_visits(conn, filters.window),
    )


def _questions(conn: Connection, window: TimeWindow) -> tuple[QuestionFigures, ...]:
    sr = SurveyResponse.__table__.c
    counts: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for survey, question, score, n in conn.execute(
        select(sr.survey, sr.question, sr.score, func.count())
        .where(window.clause(sr.created))
        .group_by(sr.survey, sr.question, sr.score)
    ):
        counts[(survey, question)][int(score)] = int(n)
    ne = NodeEventRow.__table__.c
    reached = int(conn.execute(
        select(func.count(distinct(ne.call_id))).where(ne.node_type == "survey", window.clause(ne.entered))
    ).scalar_one())  # fmt: skip
    figures = []
    for (survey, question), by_score in sorted(counts.items()):
        responses = sum(by_score.values())
        total = sum(score * n for score, n in by_score.items())
        figures.append(QuestionFigures(
            survey, question, responses, round(total / responses, 3) if responses else None,
            tuple(by_score.get(score, 0) for score in SCORES),
            round(responses / reached, 3) if reached else None,
        ))  # fmt: skip
    return tuple(figures)


def _survey_agents(conn: Connection, window: TimeWindow) -> tuple[SurveyAgentFigures, ...]:
    sr = SurveyResponse.__table__.c
    rows = conn.execute(
        select(sr.agent_id, func.count(distinct(sr.call_id)), func.count(), func.avg(sr.score))
        .where(window.clause(sr.created), sr.agent_id.is_not(None))
        .group_by(sr.agent_id)
        .order_by(sr.agent_id)
    )
    return tuple(
        SurveyAgentFigures(str(agent), int(calls), int(n), None if avg is None else round(float(avg), 3))
        for agent, calls, n, avg in rows
    )


def _callbacks(conn: Connection, window: TimeWindow) -> tuple[CountRow, ...]:
    cb = CallbackRow.__table__.c
    rows = conn.execute(
        select(cb.status, func.count())
        .where(window.clause(cb.requested), cb.kind == CallbackKind.CALLBACK.value)
        .group_by(cb.status)
        .order_by(cb.status)
    )
    return tuple(CountRow(str(status), int(n)) for status, n in rows)


def _callbacks_placed(conn: Connection, window: TimeWindow) -> CallbackFigures:
    cb = CallbackRow.__table__.c
    booked = placed = connected = abandoned = attempts = 0
    waits: list[float] = []
    for requested, status, tries, was_placed, was_connected in conn.execute(
        select(cb.requested, cb.status, cb.attempts, cb.placed, cb.connected)
        .where(window.clause(cb.requested), cb.kind == CallbackKind.CALLBACK.value)
    ):
        booked += 1
        attempts += int(tries or 0)
        placed += was_placed is not None
        abandoned += status == "failed"
        if was_connected is not None:
            connected += 1
            waits.append((_aware(was_connected) - _aware(requested)).total_seconds() / 60)
    average = round(sum(waits) / len(waits), 2) if waits else None
    return CallbackFigures(booked, placed, connected, abandoned, attempts, average)


def _return_visits(conn: Connection, window: TimeWindow) -> ReturnVisitFigures:
    orders, cb = WorkOrderRow.__table__, CallbackRow.__table__.c
    wo = orders.c
    due = placed = connected = 0
    outcomes: dict[str, int] = defaultdict(int)
    visits = select(cb.work_order, func.max(cb.placed).label("placed"),
                    func.max(cb.connected).label("connected")).where(
        cb.kind == CallbackKind.RETURN_VISIT.value).group_by(cb.work_order).subquery()
    for outcome, was_placed, was_connected in conn.execute(
        select(wo.visit_outcome, visits.c.placed, visits.c.connected)
        .select_from(orders.outerjoin(visits, visits.c.work_order == wo.serial))
        .where(window.clause(wo.created), wo.state == OrderState.CLOSED.value)
    ):
        due += 1
        placed += was_placed is not None
        connected += was_connected is not None
        if outcome:
            outcomes[str(outcome)] += 1
    return ReturnVisitFigures(due, placed, connected, outcomes["satisfied"], outcomes["unsatisfied"],
                              outcomes["unreached"])


def _voicemails(conn: Connection, window: TimeWindow) -> tuple[CountRow, ...]:
    vm = Voicemail.__table__.c
    found: dict[str, int] = defaultdict(int)
    for heard, outcome, n in conn.execute(
        select(vm.heard, vm.outcome, func.count())
        .where(window.clause(vm.created))
        .group_by(vm.heard, vm.outcome)
    ):
        found[f"closed: {outcome}" if outcome else ("heard" if heard else "new")] += int(n)
    return tuple(CountRow(key, n) for key, n in sorted(found.items()))


def _orders(conn: Connection, filters: ServiceFilter) -> dict[str, Any]:
    wo = WorkOrderRow.__table__.c
    rows = [_Order(*row) for row in conn.execute(
        select(wo.kind, wo.department, wo.urgency, wo.state, wo.created, wo.closed, wo.deadline, wo.repeat_of)
        .where(filters.window.clause(wo.created))
    )]  # fmt: skip
    states: dict[str, int] = defaultdict(int)
    for row in rows:
        states[row.state] += 1
    return {
        "by_type": _groups(rows, lambda r: r.kind, filters.now),
        "by_department": _groups(rows, lambda r: r.department or "(not dispatched)", filters.now),
        "by_urgency": _groups(rows, lambda r: r.urgency, filters.now),
        "states": tuple(CountRow(state.value, states.get(state.value, 0)) for state in OrderState),
    }


@dataclass(frozen=True)
class _Order:
    kind: str
    department: str | None
    urgency: str
    state: str
    created: datetime
    closed: datetime | None
    deadline: datetime
    repeat_of: str | None


def _groups(rows: Sequence[_Order], key_of: Callable[[_Order], str],
            now: datetime | None) -> tuple[OrderGroup, ...]:
    grouped: dict[str, list[_Order]] = defaultdict(list)
    for row in rows:
        grouped[key_of(row)].append(row)
    groups = []
    for key in sorted(grouped):
        members = grouped[key]
        closed = [r for r in members if r.closed is not None]
        hours = [(_aware(r.closed) - _aware(r.created)).total_seconds() / 3600 for r in closed if r.closed]
        late = [r for r in members if r.state != OrderState.CLOSED.value and now is not None
                and now > _aware(r.deadline)]
        repeats = sum(1 for r in members if r.repeat_of)
        groups.append(OrderGroup(key, len(members), len(closed), len(late), repeats,
                                 round(sum(hours) / len(hours), 2) if hours else None))
    return tuple(groups)


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
