"""``ivr stats service`` as a :class:`Report`: surveys, callbacks, voicemails and work orders."""

from __future__ import annotations

from ivr_engine.reports.model import Chart, ChartKind, Column, ColumnKind, Report, Table
from ivr_engine.reports.service_stats import (
    SCORES,
    CallbackFigures,
    CountRow,
    OrderGroup,
    ReturnVisitFigures,
    ServiceFilter,
    ServiceStats,
)

__all__ = ["service_report"]

_I, _P, _F = ColumnKind.INT, ColumnKind.PERCENT, ColumnKind.FLOAT


def service_report(stats: ServiceStats, filters: ServiceFilter) -> Report:
    questions = Table(
        name="Survey questions",
        title="Survey answers per question (scores 1-5)",
        columns=(
            Column("survey", "Survey"), Column("question", "Question"), Column("responses", "Answers", _I),
            Column("average", "Average", _F),
            *(Column(f"score_{s}", f"{s}", _I) for s in SCORES),
            Column("response_rate", "Response rate", _P),
        ),
        rows=tuple((q.survey, q.question, q.responses, q.average, *q.distribution, q.response_rate)
                   for q in stats.questions),
        charts=(Chart(ChartKind.BAR, "Score distribution per question", "question",
                      tuple(f"score_{s}" for s in SCORES)),),
    )  # fmt: skip
    agents = Table(
        name="Survey agents",
        title="Survey answers per agent",
        columns=(Column("agent", "Agent"), Column("calls", "Calls surveyed", _I),
                 Column("responses", "Answers", _I), Column("average", "Average", _F)),
        rows=tuple((a.agent_id, a.calls, a.responses, a.average) for a in stats.survey_agents),
        charts=(Chart(ChartKind.BAR, "Survey average per agent", "agent", ("average",)),),
    )
    tables = [
        questions, agents,
        _counts("Callbacks", "Callbacks booked, by status", "status", stats.callbacks),
        _placed(stats.callbacks_placed),
        _counts("Voicemails", "Voicemails left, by state", "state", stats.voicemails),
        _orders("Orders by type", "Work orders by type", "type", stats.by_type),
        _orders("Orders by department", "Work orders by department", "department", stats.by_department),
        _orders("Orders by urgency", "Work orders by urgency", "urgency", stats.by_urgency),
        _counts("Order states", "Work orders by state", "state", stats.states),
        _visits(stats.return_visits),
    ]  # fmt: skip
    notes = (
        f"Rows created {filters.window.describe()}.",
        "Overdue: not closed and past the current step's deadline"
        + (f" as of {filters.now.isoformat(' ', 'minutes')}." if filters.now else " (not judged)."),
        "Response rate: answers to a question / calls that reached a survey node in the window.",
        "Callbacks: placed = dialled at least once; connected = the customer talked to an agent; abandoned ="
        " given up after the last unanswered attempt; time to callback from joining the queue.",
        "Return visits: of the orders created in the window and closed; placed = the visit's callback was"
        " dialled; unreached = recorded by an agent or given up by the dialer; satisfaction = satisfied /"
        " (satisfied + unsatisfied).",
    )
    return Report(title="Service: surveys, callbacks, voicemails, work orders", tables=tuple(tables),
                  notes=notes)


def _counts(name: str, title: str, key: str, rows: tuple[CountRow, ...]) -> Table:
    total = sum(r.count for r in rows)
    return Table(
        name=name, title=title,
        columns=(Column(key, key.capitalize()), Column("count", "Count", _I), Column("share", "Share", _P)),
        rows=tuple((r.key, r.count, r.count / total if total else None) for r in rows),
        charts=(Chart(ChartKind.PIE, title, key, ("count",)),),
    )  # fmt: skip


def _placed(f: CallbackFigures) -> Table:
    return Table(
        name="Callbacks placed", title="Callbacks booked, placed, connected, abandoned",
        columns=(
            Column("booked", "Booked", _I), Column("placed", "Placed", _I),
            Column("connected", "Connected", _I),
            Column("abandoned", "Abandoned", _I), Column("attempts", "Attempts", _I),
            Column("connect_rate", "Connected / booked", _P),
            Column("minutes_to_callback", "Avg minutes to callback", _F),
        ),
        rows=((f.booked, f.placed, f.connected, f.abandoned, f.attempts,
               f.connected / f.booked if f.booked else None, f.avg_minutes_to_callback),),
    )  # fmt: skip


def _visits(f: ReturnVisitFigures) -> Table:
    return Table(
        name="Return visits", title="Return visits of closed work orders",
        columns=(
            Column("due", "Due", _I), Column("placed", "Placed", _I), Column("connected", "Connected", _I),
            Column("satisfied", "Satisfied", _I), Column("unsatisfied", "Not satisfied", _I),
            Column("unreached", "Unreachable", _I), Column("satisfaction", "Satisfaction", _P),
        ),
        rows=((f.due, f.placed, f.connected, f.satisfied, f.unsatisfied, f.unreached,
               f.satisfaction_rate),),
    )  # fmt: skip


def _orders(name: str, title: str, key: str, groups: tuple[OrderGroup, ...]) -> Table:
    return Table(
        name=name, title=title,
        columns=(
            Column(key, key.capitalize()), Column("opened", "Opened", _I), Column("closed", "Closed", _I),
            Column("overdue", "Overdue", _I), Column("overdue_rate", "Overdue rate", _P),
            Column("repeats", "Repeats", _I), Column("repeat_rate", "Repeat rate", _P),
            Column("hours_to_close", "Avg hours to close", _F),
        ),
        rows=tuple((g.key, g.opened, g.closed, g.overdue, g.overdue_rate, g.repeats, g.repeat_rate,
                    g.avg_hours_to_close) for g in groups),
        charts=(Chart(ChartKind.BAR, title, key, ("opened", "closed")),),
    )  # fmt: skip
