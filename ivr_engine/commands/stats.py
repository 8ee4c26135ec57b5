"""``ivr stats``: IVR node statistics and ACD statistics, as a table or exported to CSV, JSON or Excel."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import click

from ivr_engine.centre import centre_time
from ivr_engine.clock import CentreTime, clock_from_setting
from ivr_engine.commands.guards import (
    known_agents,
    known_flows,
    known_queues,
    require_database,
    require_known,
)
from ivr_engine.config import Settings
from ivr_engine.reports import AcdFilter, Bucket, NodeFilter, Report, ReportError, TimeWindow
from ivr_engine.reports.service_stats import ServiceFilter
from ivr_engine.reports.source import acd_statistics, node_statistics, service_statistics
from ivr_engine.reports.writers import Format, write_report
from ivr_engine.storage import Database, StorageError

__all__ = ["stats_group"]

F = TypeVar("F", bound=Callable[..., object])

_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]


def _common(command: F) -> F:
    options = [
        click.option(
            "--since", type=click.DateTime(_DATE_FORMATS), help="From this time (centre's zone), inclusive."
        ),
        click.option(
            "--until", type=click.DateTime(_DATE_FORMATS), help="Up to this time (centre's zone), exclusive."
        ),
        click.option(
            "--today", is_flag=True, help="The centre's current local day (not with --since/--until)."
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice([f.value for f in Format]),
            help="Output format (default: table); xlsx needs --out.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Same as --format json."),
        click.option(
            "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group("stats")
def stats_group() -> None:
    """Supervisor statistics: IVR nodes, the ACD, and the service loop."""


def _format(fmt: str | None, as_json: bool) -> Format:
    if as_json and fmt not in (None, Format.JSON.value):
        raise click.UsageError(f"--json and --format {fmt} ask for two formats: give one")
    return Format.JSON if as_json else Format(fmt or Format.TABLE.value)


def _emit(settings: Settings, build: Callable[[Database], Report], fmt: Format, out: Path | None) -> None:
    require_database(settings)
    database: Database | None = None
    try:
        database = Database(settings.db_url)
        report = build(database)
        write_report(report, fmt, out, sys.stdout)
    except (ReportError, StorageError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if database is not None:
            database.dispose()
    if out is not None:
        click.echo(f"wrote {out}", err=True)


def _window(
    settings: Settings, centre: CentreTime, since: datetime | None, until: datetime | None, today: bool
) -> TimeWindow:
    """The report window: typed times are the centre's local times; ``--today`` its current local day."""
    if today:
        if since or until:
            raise click.UsageError("--today cannot be combined with --since/--until")
        now = clock_from_setting(settings.clock_start, settings.clock_anchor).now()
        day_start, day_end = centre.day_window(now)
        return TimeWindow(day_start, day_end)
    try:
        return TimeWindow(
            since.replace(tzinfo=centre.zone) if since else None,
            until.replace(tzinfo=centre.zone) if until else None,
        )
    except ReportError as exc:
        raise click.BadParameter(str(exc)) from exc


@stats_group.command("nodes")
@click.option("--flow", help="Only this flow (its funnel too; default funnel: the main flow).")
@_common
@click.pass_obj
def nodes_command(
    settings: Settings,
    flow: str | None,
    since: datetime | None,
    until: datetime | None,
    today: bool,
    fmt: str | None,
    as_json: bool,
    out: Path | None,
) -> None:
    """Per IVR node: visits, exits per edge, hang-ups, timeouts, invalid input, time spent; the funnel."""
    if flow is not None:
        require_known("--flow", flow, known_flows(settings), str(settings.flows_dir))
    filters = NodeFilter(flow=flow, window=_window(settings, centre_time(settings), since, until, today))
    _emit(settings, lambda database: node_statistics(database, filters), _format(fmt, as_json), out)


@stats_group.command("acd")
@click.option("--queue", help="Only this queue.")
@click.option("--agent", help="Only calls answered by (and surveys about) this agent id.")
@click.option(
    "--by",
    type=click.Choice([b.value for b in Bucket]),
    default=Bucket.HOUR.value,
    show_default=True,
    help="Call volume per hour or per day (the centre's local time).",
)
@click.option(
    "--sla",
    type=click.FloatRange(min=0),
    default=20.0,
    show_default=True,
    help="Service-level threshold: seconds to answer.",
)
@_common
@click.pass_obj
def acd_command(
    settings: Settings,
    queue: str | None,
    agent: str | None,
    by: str,
    sla: float,
    since: datetime | None,
    until: datetime | None,
    today: bool,
    fmt: str | None,
    as_json: bool,
    out: Path | None,
) -> None:
    """Per queue and agent: offered, answered, SL, ASA, AHT, surveys; volume; agent login/pause/occupancy."""
    if queue is not None:
        require_known("--queue", queue, known_queues(settings), str(settings.agents_file))
    if agent is not None:
        require_known("--agent", agent, known_agents(settings), str(settings.agents_file))
    centre = centre_time(settings)
    filters = AcdFilter(
        queue=queue,
        agent=agent,
        window=_window(settings, centre, since, until, today),
        by=Bucket(by),
        sla_s=sla,
        zone=centre.name,
        now=clock_from_setting(settings.clock_start, settings.clock_anchor).now(),
    )
    _emit(settings, lambda database: acd_statistics(database, filters), _format(fmt, as_json), out)


@stats_group.command("service")
@_common
@click.pass_obj
def service_command(
    settings: Settings,
    since: datetime | None,
    until: datetime | None,
    today: bool,
    fmt: str | None,
    as_json: bool,
    out: Path | None,
) -> None:
    """Surveys per question and agent, callbacks, voicemails, work orders by type, department, urgency."""
    centre = centre_time(settings)
    now = clock_from_setting(settings.clock_start, settings.clock_anchor).now()
    filters = ServiceFilter(window=_window(settings, centre, since, until, today), now=now)
    _emit(settings, lambda database: service_statistics(database, filters), _format(fmt, as_json), out)
