"""``ivr simulate``: walk a flow with typed digits through the real interpreter, live data untouched."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import click

from ivr_engine.centre import centre_time
from ivr_engine.clock import ClockError, clock_from_setting, parse_local
from ivr_engine.config import Settings
from ivr_engine.flow.errors import FlowError
from ivr_engine.flow.interpreter import EndReason
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.memory import MemoryNodeLog, MemorySurveys, MemoryVoicemails
from ivr_engine.flow.ports import CallRecord, TransferOutcome, Transferrer
from ivr_engine.flow.services import FlowServices
from ivr_engine.flow.simulator import (
    FixedTransferrer,
    ScriptedChannel,
    SimClock,
    Simulation,
    parse_script,
    simulate,
)
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.prompts.errors import CatalogueError

__all__ = ["simulate_command", "simulation_json", "simulation_lines"]


def simulation_lines(sim: Simulation, *, header: str) -> list[str]:
    """The human-readable walk: each node with input and outcome, and what the caller heard."""
    lines = [header]
    rows = [
        (
            str(s.event.seq),
            f"{s.event.flow}/{s.event.node}",
            s.event.node_type,
            s.event.input or "-",
            s.event.outcome,
        )
        for s in sim.steps
    ]
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(4)]
    for row, step in zip(rows, sim.steps, strict=True):
        seq, node, kind, given, outcome = row
        columns = f"{seq:>{widths[0]}}  {node:<{widths[1]}}  {kind:<{widths[2]}}  {given:<{widths[3]}}"
        lines.append(f"{columns}  -> {outcome}")
        for entry in step.transcript:
            if entry.text:
                lines.append(f"{'':>{widths[0]}}    {entry.kind.value}: {entry.text}")
    result = sim.result
    ending = f"ended: {result.reason.value} at {result.flow}/{result.node} after {result.steps} nodes"
    lines.append(ending + (f" ({result.error})" if result.error else ""))
    return lines


def simulation_json(
    sim: Simulation,
    *,
    call_id: str,
    caller: str,
    dialled: str,
    started: datetime,
    recorded_to: str | None = None,
) -> str:
    """The walk as JSON; ``recorded_to`` names the separate database it was stored in (None: nowhere)."""
    data = {
        "call_id": call_id,
        "recorded_to": recorded_to,
        "caller": caller,
        "dialled": dialled,
        "started": started.isoformat(),
        "result": {
            "reason": sim.result.reason.value,
            "flow": sim.result.flow,
            "node": sim.result.node,
            "steps": sim.result.steps,
            "error": sim.result.error,
            "variables": dict(sim.result.variables),
        },
        "steps": [
            {
                "seq": s.event.seq,
                "flow": s.event.flow,
                "node": s.event.node,
                "type": s.event.node_type,
                "input": s.event.input,
                "outcome": s.event.outcome,
                "entered": s.event.entered.isoformat(),
                "left": s.event.left.isoformat(),
                "heard": [{"kind": e.kind.value, "text": e.text} for e in s.transcript],
            }
            for s in sim.steps
        ],
    }
    return json.dumps(data, indent=2)


def _parse_at(settings: Settings, text: str | None) -> datetime:
    """``--at`` in the centre's time zone (unless it carries an offset); default: the service's now."""
    if text is None:
        return clock_from_setting(settings.clock_start, settings.clock_anchor).now()
    try:
        return parse_local(text, centre_time(settings, FlowLibrary.lenient([settings.flows_dir])).zone)
    except ClockError:
        raise click.BadParameter(f"{text!r} is not a date and time such as '2026-12-25 10:00'") from None


def _flow_file(settings: Settings, flow: str) -> Path:
    path = Path(flow)
    if path.is_file():
        return path
    named = settings.flows_dir / f"{flow}.yaml"
    if named.is_file():
        return named
    raise click.BadParameter(f"no flow file {flow!r} (and no {named})", param_hint="FLOW")


def _record_url(settings: Settings, target: str | None) -> str | None:
    """The database ``--record-to`` names, migrated to the current schema; never the live one."""
    from ivr_engine.storage import Database, StorageError
    from ivr_engine.storage.database import redact_url
    from ivr_engine.storage.migrate import upgrade
    from ivr_engine.storage.targets import database_url, same_database

    if target is None:
        return None
    try:
        url = database_url(target)
        if same_database(url, settings.db_url):
            raise click.BadParameter(
                f"{redact_url(url)} is the live database: name a separate file or URL to record into",
                param_hint="--record-to",
            )
        database = Database(url)
        try:
            upgrade(database)
        finally:
            database.dispose()
    except StorageError as exc:
        raise click.BadParameter(str(exc), param_hint="--record-to") from None
    return url


async def _run(
    settings: Settings,
    library: FlowLibrary,
    flow_name: str,
    channel: ScriptedChannel,
    clock: SimClock,
    transferrer: Transferrer,
    record_url: str | None,
) -> Simulation:
    """Walk the flow. Lookups read the live database, opened read-only; what the call writes is kept
    in memory, or stored in the ``record_url`` database (never the live one: see ``_record_url``)."""
    from ivr_engine.storage import Database, open_stores
    from ivr_engine.storage.lookups import SqlLookups
    from ivr_engine.storage.pins import PinKeyFile, Pins

    try:
        catalogue = load_catalogue(settings.sounds_dir / "prompts.yaml", settings.sounds_dir)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from None
    flow = library.get(flow_name)
    assert flow is not None
    live = Database(settings.db_url, read_only=True)
    try:
        services = FlowServices(
            lookups=SqlLookups(live, Pins(PinKeyFile(settings.pin_key_path))),
            node_log=MemoryNodeLog(),
            surveys=MemorySurveys(),
            voicemails=MemoryVoicemails(),
            catalogue=catalogue,
            flows=library,
            transferrer=transferrer,
            clock=clock,
            language=settings.language,
        )
        if record_url is None:
            return await simulate(flow, channel, services, call_id=channel.id)
        async with open_stores(replace(settings, database_url=record_url)) as stores:
            services = replace(
                services, node_log=stores.node_log, surveys=stores.surveys, voicemails=stores.voicemails
            )
            await stores.calls.call_started(
                CallRecord(channel.id, channel.caller_id, channel.dialled, clock.now())
            )
            sim = await simulate(flow, channel, services, call_id=channel.id)
            await stores.node_log.flush()
            await stores.calls.call_ended(channel.id, clock.now(), f"simulated:{sim.result.reason.value}")
        return sim
    finally:
        live.dispose()


@click.command("simulate")
@click.argument("flow")
@click.option("--caller", default="15550000000", show_default=True, help="The caller id the flow sees.")
@click.option("--digits", default="", help="Keys the caller presses, in order; T = no input at that point.")
@click.option(
    "--timeout-at",
    multiple=True,
    type=click.IntRange(min=0),
    help="No input before the N-th key (0-based); may be repeated.",
)
@click.option(
    "--at", "at_text", help="Simulated clock, e.g. '2026-12-25 10:00' (centre's time zone unless an offset)."
)
@click.option("--dialled", help="The number dialled. Default: the flow's service number.")
@click.option(
    "--transfer",
    "transfer_outcome",
    type=click.Choice([o.value for o in TransferOutcome]),
    default=TransferOutcome.NO_AGENTS.value,
    show_default=True,
    help="How transfers to agents end in the simulation.",
)
@click.option(
    "--record-to",
    "record_to",
    metavar="FILE_OR_URL",
    help="Store the simulated call in this separate database (a SQLite file or a database URL; "
    "created or migrated as needed). Never the live one. Default: store nothing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the walk as JSON.")
@click.pass_obj
def simulate_command(
    settings: Settings,
    flow: str,
    caller: str,
    digits: str,
    timeout_at: tuple[int, ...],
    at_text: str | None,
    dialled: str | None,
    transfer_outcome: str,
    record_to: str | None,
    as_json: bool,
) -> None:
    """Run FLOW (a file or a flow name) with scripted digits, reading the database's customers.

    Nothing is stored in the live database: no call, node events, survey answers or voicemails
    (lookups only read it). `--record-to` stores the walk like a real call in a separate database.
    When the digits run out, the simulated caller hangs up at the next request for input.
    """
    path = _flow_file(settings, flow)
    try:
        script = parse_script(digits, timeout_at)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--digits/--timeout-at") from None
    try:
        library, top = FlowLibrary.for_flow(path, [settings.flows_dir])
    except FlowError as exc:
        raise click.ClickException(f"{exc}\n(run `ivr validate {path}`)") from None
    flow_name = top.name
    numbers = {name: number for number, name in settings.service_numbers.items()}
    started = _parse_at(settings, at_text)
    clock = SimClock(started)
    call_id = f"sim-{uuid.uuid4().hex[:12]}"
    channel = ScriptedChannel(
        script=script,
        caller_id=caller,
        dialled=dialled or numbers.get(flow_name, "sim"),
        id=call_id,
        clock=clock,
    )
    from ivr_engine.storage import StorageError
    from ivr_engine.storage.database import redact_url

    record_url = _record_url(settings, record_to)
    try:
        sim = asyncio.run(
            _run(
                settings,
                library,
                flow_name,
                channel,
                clock,
                FixedTransferrer(TransferOutcome(transfer_outcome)),
                record_url,
            )
        )
    except StorageError as exc:
        raise click.ClickException(f"{exc} (have you run `ivr db init` and `ivr db seed`?)") from None
    recorded_to = None if record_url is None else redact_url(record_url)
    if as_json:
        click.echo(
            simulation_json(
                sim,
                call_id=call_id,
                caller=caller,
                dialled=channel.dialled,
                started=started,
                recorded_to=recorded_to,
            )
        )
    else:
        header = (
            f"call {call_id}  flow {flow_name}  caller {caller}  dialled {channel.dialled}"
            f"  at {started:%Y-%m-%d %H:%M %Z}"
        )
        for line in simulation_lines(sim, header=header):
            click.echo(line)
        if recorded_to is None:
            click.echo("not stored: a simulation leaves no trace in the live data (--record-to keeps one)")
        else:
            click.echo(f"recorded in {recorded_to} as call {call_id}")
    if sim.result.reason is EndReason.ERROR:
        raise click.exceptions.Exit(1)
