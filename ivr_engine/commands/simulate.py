"""``ivr simulate``: walk a flow with typed digits, through the real interpreter and database."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click

from ivr_engine.config import Settings
from ivr_engine.flow.errors import FlowError
from ivr_engine.flow.interpreter import EndReason
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.ports import CallRecord, TransferOutcome, TransferRequest, Transferrer
from ivr_engine.flow.services import FlowServices
from ivr_engine.flow.simulator import ScriptedChannel, SimClock, Simulation, parse_script, simulate
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.prompts.errors import CatalogueError

__all__ = ["simulate_command", "simulation_json", "simulation_lines"]


@dataclass(frozen=True)
class _FixedTransferrer:
    """The simulated ACD: every transfer ends with the outcome asked for on the command line."""

    outcome: TransferOutcome

    async def transfer(self, channel: object, request: TransferRequest) -> TransferOutcome:
        return self.outcome

    def agent_of(self, call_id: str) -> str | None:
        return "sim-agent" if self.outcome is TransferOutcome.COMPLETED else None


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


def simulation_json(sim: Simulation, *, call_id: str, caller: str, dialled: str, started: datetime) -> str:
    data = {
        "call_id": call_id,
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


def _parse_at(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date and time such as '2026-12-25 10:00'") from None
    return moment if moment.tzinfo is not None else moment.astimezone()


def _flow_file(settings: Settings, flow: str) -> Path:
    path = Path(flow)
    if path.is_file():
        return path
    named = settings.flows_dir / f"{flow}.yaml"
    if named.is_file():
        return named
    raise click.BadParameter(f"no flow file {flow!r} (and no {named})", param_hint="FLOW")


async def _run(
    settings: Settings,
    library: FlowLibrary,
    flow_name: str,
    channel: ScriptedChannel,
    clock: SimClock,
    transferrer: Transferrer,
) -> Simulation:
    from ivr_engine.storage import open_stores

    try:
        catalogue = load_catalogue(settings.sounds_dir / "prompts.yaml", settings.sounds_dir)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from None
    flow = library.get(flow_name)
    assert flow is not None
    async with open_stores(settings) as stores:
        services = FlowServices(
            lookups=stores.lookups,
            node_log=stores.node_log,
            surveys=stores.surveys,
            voicemails=stores.voicemails,
            catalogue=catalogue,
            flows=library,
            transferrer=transferrer,
            clock=clock,
        )
        await stores.calls.call_started(
            CallRecord(channel.id, channel.caller_id, channel.dialled, clock.now())
        )
        sim = await simulate(flow, channel, services, call_id=channel.id)
        await stores.node_log.flush()
        await stores.calls.call_ended(channel.id, clock.now(), f"simulated:{sim.result.reason.value}")
    return sim


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
    "--at", "at_text", help="Simulated clock, e.g. '2026-12-25 10:00' (local time unless an offset)."
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
    as_json: bool,
) -> None:
    """Run FLOW (a file or a flow name) with scripted digits against the database.

    The walk is stored like a real call (see `ivr calls show`). When the digits run out, the
    simulated caller hangs up at the next request for input.
    """
    path = _flow_file(settings, flow)
    try:
        script = parse_script(digits, timeout_at)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--digits/--timeout-at") from None
    try:
        library = FlowLibrary.from_paths([path.parent])
    except FlowError as exc:
        raise click.ClickException(f"{exc}\n(run `ivr validate {path.parent}`)") from None
    flow_name = next((f for f in library.names() if (fl := library.get(f)) and fl.path == path), path.stem)
    numbers = {name: number for number, name in settings.service_numbers.items()}
    started = _parse_at(at_text)
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

    try:
        sim = asyncio.run(
            _run(
                settings,
                library,
                flow_name,
                channel,
                clock,
                _FixedTransferrer(TransferOutcome(transfer_outcome)),
            )
        )
    except StorageError as exc:
        raise click.ClickException(f"{exc} (have you run `ivr db init` and `ivr db seed`?)") from None
    if as_json:
        click.echo(
            simulation_json(sim, call_id=call_id, caller=caller, dialled=channel.dialled, started=started)
        )
    else:
        header = (
            f"call {call_id}  flow {flow_name}  caller {caller}  dialled {channel.dialled}"
            f"  at {started:%Y-%m-%d %H:%M %Z}"
        )
        for line in simulation_lines(sim, header=header):
            click.echo(line)
    if sim.result.reason is EndReason.ERROR:
        raise click.exceptions.Exit(1)
