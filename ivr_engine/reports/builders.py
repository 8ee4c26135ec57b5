"""Turn typed statistics into :class:`Report` tables (with their charts) for the writers."""

from __future__ import annotations

from ivr_engine.reports.acd_stats import AcdFigures, AcdFilter, AcdStats
from ivr_engine.reports.agent_builder import agent_tables, profile_table
from ivr_engine.reports.funnel import FunnelStep
from ivr_engine.reports.model import Chart, ChartKind, Column, ColumnKind, Report, Table
from ivr_engine.reports.node_stats import NodeFilter, NodeStat

__all__ = ["acd_report", "node_report"]

_T, _I, _P, _S, _F = ColumnKind.TEXT, ColumnKind.INT, ColumnKind.PERCENT, ColumnKind.SECONDS, ColumnKind.FLOAT


def node_report(nodes: tuple[NodeStat, ...], funnel: tuple[FunnelStep, ...], filters: NodeFilter) -> Report:
    node_table = Table(
        name="Nodes",
        title="IVR nodes",
        columns=(
            Column("flow", "Flow"),
            Column("node", "Node"),
            Column("type", "Type"),
            Column("visits", "Visits", _I),
            Column("hangups", "Hang-ups", _I),
            Column("timeouts", "Timeouts", _I),
            Column("invalid", "Invalid", _I),
            Column("median_s", "Median s", _S),
            Column("p90_s", "P90 s", _S),
        ),
        rows=tuple(
            (n.flow, n.node, n.node_type, n.visits, n.hangups, n.timeouts, n.invalid, n.median_s, n.p90_s)
            for n in nodes
        ),
        charts=(
            Chart(ChartKind.BAR, "Visits and hang-ups per node", "node", ("visits", "hangups"), ("flow",)),
            Chart(ChartKind.PIE, "Hang-ups by node", "node", ("hangups",), ("flow",)),
        ),
    )
    exit_table = Table(
        name="Exits",
        title="Exits per edge",
        columns=(
            Column("flow", "Flow"),
            Column("node", "Node"),
            Column("outcome", "Exit"),
            Column("count", "Count", _I),
            Column("share", "Share", _P),
        ),
        rows=tuple(
            (n.flow, n.node, edge.outcome, edge.count, edge.count / n.visits)
            for n in nodes
            for edge in n.exits
        ),
    )
    funnel_table = Table(
        name="Funnel",
        title="Funnel along the main path",
        columns=(
            Column("step", "Step", _I),
            Column("flow", "Flow"),
            Column("node", "Node"),
            Column("reached", "Calls", _I),
            Column("reached_share", "Of entry", _P),
            Column("continued", "Went on", _I),
            Column("ended_here", "Dropped", _I),
            Column("drop_off_share", "Drop-off", _P),
        ),
        rows=tuple(
            (i, s.flow, s.node, s.reached, s.reached_share, s.continued, s.ended_here, s.drop_off_share)
            for i, s in enumerate(funnel, start=1)
        ),
        charts=(
            Chart(ChartKind.BAR, "Calls reaching each step", "node", ("reached", "ended_here"), ("flow",)),
            Chart(ChartKind.PIE, "Where calls dropped", "node", ("ended_here",), ("flow",)),
        ),
    )
    scope = f"flow {filters.flow}" if filters.flow else "all flows"
    return Report(
        title="IVR node statistics",
        tables=(node_table, exit_table, funnel_table),
        notes=(f"{scope}, {filters.window.describe()}",),
    )


def _figure_row(f: AcdFigures) -> tuple[str | int | float | None, ...]:
    return (
        f.queue,
        f.offered,
        f.answered,
        f.abandoned,
        f.abandon_rate,
        f.overflow,
        f.callbacks,
        f.no_agents,
        f.service_level,
        f.asa_s,
        f.aht_s,
        f.max_wait_s,
        f.prediction_error_s,
    )


def acd_report(stats: AcdStats, filters: AcdFilter) -> Report:
    sla = f"{filters.sla_s:g}"
    queue_table = Table(
        name="Queues",
        title="Per queue",
        columns=(
            Column("queue", "Queue"),
            Column("offered", "Offered", _I),
            Column("answered", "Answered", _I),
            Column("abandoned", "Abandoned", _I),
            Column("abandon_rate", "Abandon %", _P),
            Column("overflow", "Overflow", _I),
            Column("callbacks", "Callbacks", _I),
            Column("no_agents", "No agents", _I),
            Column("service_level", f"SL {sla}s", _P),
            Column("asa_s", "ASA s", _S),
            Column("aht_s", "AHT s", _S),
            Column("max_wait_s", "Max wait s", _S),
            Column("prediction_error_s", "Wait est. err s", _S),
        ),
        rows=(*(_figure_row(q) for q in stats.queues), _figure_row(stats.total)),
        charts=(
            Chart(
                ChartKind.BAR,
                "Calls per queue",
                "queue",
                ("offered", "answered", "abandoned"),
                omit=(stats.total.queue,),  # the total stays in the table; it would dwarf the queues
            ),
        ),
    )
    agent_table = Table(
        name="Agents",
        title="Per agent",
        columns=(
            Column("agent", "Agent"),
            Column("name", "Name"),
            Column("answered", "Answered", _I),
            Column("asa_s", "ASA s", _S),
            Column("aht_s", "AHT s", _S),
            Column("surveys", "Surveys", _I),
            Column("survey_average", "Survey avg", _F),
        ),
        rows=tuple(
            (a.agent_id, a.name, a.answered, a.asa_s, a.aht_s, a.survey_responses, a.survey_average)
            for a in stats.agents
        ),
        charts=(
            Chart(ChartKind.BAR, "Survey average per agent", "agent", ("survey_average",)),
            Chart(ChartKind.PIE, "Answered calls by agent", "agent", ("answered",)),
        ),
    )
    outcome_table = Table(
        name="Outcomes",
        title="Queue outcomes",
        columns=(Column("outcome", "Outcome"), Column("calls", "Calls", _I)),
        rows=tuple((o.outcome, o.calls) for o in stats.outcomes),
        charts=(Chart(ChartKind.PIE, "Queue outcomes", "outcome", ("calls",)),),
    )
    volume_table = Table(
        name="Volume",
        title=f"Call volume by {filters.by.value}",
        columns=(
            Column("period", filters.by.value.capitalize()),
            Column("calls", "Calls", _I),
            Column("offered", "Queued", _I),
            Column("answered", "Answered", _I),
            Column("abandoned", "Abandoned", _I),
        ),
        rows=tuple((v.period, v.calls, v.offered, v.answered, v.abandoned) for v in stats.volume),
        charts=(
            Chart(
                ChartKind.BAR,
                f"Call volume by {filters.by.value}",
                "period",
                ("offered", "answered", "abandoned"),
            ),
        ),
    )
    scope = [f"queue {filters.queue}" if filters.queue else "all queues"]
    if filters.agent:
        scope.append(f"agent {filters.agent}")
    return Report(
        title="ACD statistics",
        tables=(
            queue_table,
            agent_table,
            outcome_table,
            volume_table,
            profile_table(stats),
            *agent_tables(stats),
        ),
        notes=(
            f"{', '.join(scope)}, {filters.window.describe()}",
            f"service level: answered within {sla} s / offered; abandon rate: abandoned / offered",
            "offered leaves out calls that found no agent logged in for the queue (column No agents)",
            "agent time: login = not logged out; occupancy = (on call + wrap-up) / (ready + ringing + on call"
            " + wrap-up); clipped to the window and to now",
        ),
    )
