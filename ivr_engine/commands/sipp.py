"""``ivr sipp generate``: a SIPp caller scenario that walks a chosen path through a flow."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from pathlib import Path

import click

from ivr_engine.centre import centre_time
from ivr_engine.clock import ClockError, clock_from_setting, parse_local
from ivr_engine.commands.guards import require_database
from ivr_engine.config import Settings
from ivr_engine.flow.errors import FlowError
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.memory import MemoryNodeLog, MemorySurveys, MemoryVoicemails
from ivr_engine.flow.model import Flow
from ivr_engine.flow.services import FlowServices
from ivr_engine.lab.errors import LabError
from ivr_engine.lab.scenario_gen import ScenarioPlan, parse_path, plan_scenario, write_scenario
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.prompts.errors import CatalogueError

__all__ = ["plan_json", "sipp_group"]


def _flow(settings: Settings, flow: str) -> tuple[FlowLibrary, Flow]:
    path = Path(flow)
    if not path.is_file():
        path = settings.flows_dir / f"{flow}.yaml"
        if not path.is_file():
            names = ", ".join(FlowLibrary.lenient([settings.flows_dir]).names())
            raise click.BadParameter(f"no flow {flow!r} in {settings.flows_dir} (names: {names})")
    try:
        return FlowLibrary.for_flow(path, [settings.flows_dir])
    except FlowError as exc:
        raise click.ClickException(f"{exc}\n(run `ivr validate {path}`)") from None


async def _plan(
    settings: Settings, library: FlowLibrary, flow: Flow, path: str, number: str, caller: str, start: datetime
) -> ScenarioPlan:
    from ivr_engine.storage import Database
    from ivr_engine.storage.lookups import SqlLookups
    from ivr_engine.storage.pins import PinKeyFile, Pins

    try:
        catalogue = load_catalogue(settings.sounds_dir / "prompts.yaml", settings.sounds_dir)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from None
    database = Database(settings.db_url, read_only=True)  # planning reads customers, writes nothing
    try:
        services = FlowServices(
            lookups=SqlLookups(database, Pins(PinKeyFile(settings.pin_key_path))),
            node_log=MemoryNodeLog(),
            surveys=MemorySurveys(),
            voicemails=MemoryVoicemails(),
            catalogue=catalogue,
            flows=library,
            language=settings.language,
        )
        return await plan_scenario(
            flow, parse_path(path), services, number=number, caller_id=caller, start=start
        )
    finally:
        database.dispose()


def plan_json(plan: ScenarioPlan, files: list[Path]) -> str:
    """The plan as JSON: inputs with waits, the expected node path, and the files written."""
    data = {
        "flow": plan.flow,
        "number": plan.number,
        "caller": plan.caller_id,
        "digits": plan.digits,
        "ended": plan.ended.value,
        "hangup_after_s": plan.hangup_after_s,
        "timeout_s": plan.timeout_s,
        "inputs": [
            {"flow": p.flow, "node": p.node, "given": str(p.segment), "wait_ms": p.wait_ms}
            for p in plan.inputs
        ],
        "expected": [
            {"flow": s.flow, "node": s.node, "type": s.node_type, "input": s.input, "outcome": s.outcome}
            for s in plan.expected
        ],
        "scenario": str(files[0]),
        "files": [str(f) for f in files],
    }
    return json.dumps(data, indent=2)


def _plan_lines(plan: ScenarioPlan, files: list[Path], settings: Settings) -> list[str]:
    lines = [f"wrote {files[0]} (+ {len(files) - 1} pcaps in {files[0].stem}-media/)"]
    lines.append(f"call {plan.number} as {plan.caller_id}; the caller:")
    for point in plan.inputs:
        lines.append(
            f"  waits {point.wait_ms / 1000:.1f} s, gives {point.segment} at {point.flow}/{point.node}"
        )
    if plan.hangup_after_s is None:
        lines.append("  then waits for the flow to hang up")
    else:
        lines.append(f"  then hangs up after {plan.hangup_after_s:.1f} s")
    lines.append("expected node path:")
    for step in plan.expected:
        given = f" [{step.input}]" if step.input else ""
        lines.append(f"  {step.flow}/{step.node}{given} -> {step.outcome}")
    lines.append(
        f"run: cd {files[0].parent} && sipp {settings.sip_host}:{settings.sip_port} -sf {files[0].name} "
        f"-m 1 -i {settings.sip_host} -p 5070 -mp 6000"
    )
    return lines


@click.group("sipp")
def sipp_group() -> None:
    """SIPp scenarios for flows."""


@sipp_group.command("generate")
@click.argument("flow")
@click.option(
    "--path", "path_text", required=True, help='Input per request, e.g. "100200#/4321#/9" (see docs).'
)
@click.option("--caller", default="15550001001", show_default=True, help="The caller id SIPp sends.")
@click.option("--number", help="The number dialled. Default: the flow's service number.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Scenario file. Default: ./sipp-FLOW.xml"
)
@click.option(
    "--at", "at_text", help="Clock for `hours` nodes, e.g. '2026-12-02 10:00' (centre's zone; default: now)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.pass_obj
def generate_command(
    settings: Settings,
    flow: str,
    path_text: str,
    caller: str,
    number: str | None,
    out: Path | None,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Write a SIPp caller scenario walking FLOW along --path, and print the node path it should produce.

    Path: one segment per request for input, separated by '/': keys (0-9 * #), T for no input, or
    ~SECONDS then keys to speak into a record node (e.g. ~3#); NODE=... checks which node asks.
    The flow is walked with the simulator against the database (nothing is written there).
    """
    library, found = _flow(settings, flow)
    numbers = {name: num for num, name in settings.service_numbers.items()}
    dialled = number or numbers.get(found.name)
    if dialled is None:
        raise click.BadParameter(
            f"flow {found.name!r} has no service number: give --number", param_hint="--number"
        )
    if not re.fullmatch(r"[0-9A-Za-z+*#_.-]{1,32}", caller):
        raise click.BadParameter(f"{caller!r} is not a SIP user part", param_hint="--caller")
    try:  # the centre's time zone unless an offset is given; default: the service's now
        start = (
            parse_local(at_text, centre_time(settings).zone)
            if at_text
            else clock_from_setting(settings.clock_start, settings.clock_anchor).now()
        )
    except ClockError:
        raise click.BadParameter(f"{at_text!r} is not a date and time", param_hint="--at") from None
    require_database(settings)
    from ivr_engine.storage import StorageError

    try:
        plan = asyncio.run(_plan(settings, library, found, path_text, dialled, caller, start))
        files = write_scenario(plan, out or Path(f"sipp-{found.name}.xml"))
    except LabError as exc:
        raise click.ClickException(str(exc)) from None
    except StorageError as exc:
        raise click.ClickException(f"{exc} (have you run `ivr db init` and `ivr db seed`?)") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write the scenario: {exc}") from None
    if as_json:
        click.echo(plan_json(plan, files))
    else:
        for line in _plan_lines(plan, files, settings):
            click.echo(line)
