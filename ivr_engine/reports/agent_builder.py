"""The agent-time and hour-of-day tables of ``ivr stats acd`` (figures: ``agent_time``, ``agent_stats``)."""

from __future__ import annotations

from acd.model import AgentState
from ivr_engine.reports.acd_stats import AcdStats
from ivr_engine.reports.model import Chart, ChartKind, Column, ColumnKind, Table

__all__ = ["agent_tables", "profile_table"]

_I, _P, _S = ColumnKind.INT, ColumnKind.PERCENT, ColumnKind.SECONDS


def agent_tables(stats: AcdStats) -> tuple[Table, ...]:
    time_table = Table(
        name="Agent time",
        title="Agent time (login, states, occupancy)",
        columns=(
            Column("agent", "Agent"),
            Column("login_s", "Login s", _S),
            Column("ready_s", "Ready s", _S),
            Column("ringing_s", "Ringing s", _S),
            Column("on_call_s", "On call s", _S),
            Column("wrap_up_s", "Wrap-up s", _S),
            Column("paused_s", "Paused s", _S),
            Column("occupancy", "Occupancy", _P),
        ),
        rows=tuple(
            (
                t.agent_id,
                t.login_s,
                t.state_s(AgentState.READY.value),
                t.state_s(AgentState.RINGING.value),
                t.state_s(AgentState.ON_CALL.value),
                t.state_s(AgentState.WRAP_UP.value),
                t.pause_s,
                t.occupancy,
            )
            for t in stats.agent_times
        ),
        charts=(
            Chart(ChartKind.BAR, "Login and pause time per agent", "agent", ("login_s", "paused_s")),
            Chart(ChartKind.BAR, "Occupancy per agent", "agent", ("occupancy",)),
        ),
    )
    pause_table = Table(
        name="Pauses",
        title="Pause time by reason",
        columns=(
            Column("agent", "Agent"),
            Column("reason", "Reason"),
            Column("paused_s", "Paused s", _S),
            Column("login_share", "Of login", _P),
        ),
        rows=tuple(
            (t.agent_id, reason, seconds, seconds / t.login_s if t.login_s else None)
            for t in stats.agent_times
            for reason, seconds in t.pause_by_reason
        ),
        charts=(Chart(ChartKind.PIE, "Pause time by agent and reason", "reason", ("paused_s",), ("agent",)),),
    )
    day_table = Table(
        name="Agent days",
        title="Calls answered per agent per day",
        columns=(Column("agent", "Agent"), Column("day", "Day"), Column("answered", "Answered", _I)),
        rows=tuple((d.agent_id, d.day, d.answered) for d in stats.agent_days),
        charts=(Chart(ChartKind.BAR, "Calls answered per agent per day", "day", ("answered",), ("agent",)),),
    )
    return time_table, pause_table, day_table


def profile_table(stats: AcdStats) -> Table:
    return Table(
        name="Hour profile",
        title="Call volume by hour of day (summed over the window's days)",
        columns=(
            Column("hour", "Hour"),
            Column("calls", "Calls", _I),
            Column("offered", "Queued", _I),
            Column("answered", "Answered", _I),
            Column("abandoned", "Abandoned", _I),
        ),
        rows=tuple((v.period, v.calls, v.offered, v.answered, v.abandoned) for v in stats.profile),
        charts=(
            Chart(ChartKind.BAR, "Call volume by hour of day", "hour", ("offered", "answered", "abandoned")),
        ),
    )
