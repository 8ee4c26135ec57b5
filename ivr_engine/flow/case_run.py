"""Running flow test cases in the simulator, and showing a failure (expected and actual path side by
side). The command (``ivr flows test``) supplies the environment: lookups, prompt texts, the centre's
zone and the folders sub-flows come from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from ivr_engine.clock import ClockError, parse_local
from ivr_engine.flow.cases import CaseFile, FlowCase
from ivr_engine.flow.errors import FlowError
from ivr_engine.flow.interpreter import EndReason
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.memory import MemoryNodeLog, MemorySurveys, MemoryVoicemails
from ivr_engine.flow.model import Flow
from ivr_engine.flow.ports import Lookups
from ivr_engine.flow.services import FlowServices, PromptTexts
from ivr_engine.flow.simulator import (
    EntryKind,
    FixedTransferrer,
    ScriptedChannel,
    SimClock,
    Simulation,
    parse_script,
    simulate,
)

__all__ = ["CaseEnvironment", "CaseResult", "failure_lines", "flow_path", "path_lines", "run_case_file"]


@dataclass(frozen=True)
class CaseEnvironment:
    lookups: Lookups
    catalogue: PromptTexts
    zone: tzinfo
    flows_dir: Path
    numbers: Mapping[str, str]  # flow name -> service number (the default `dialled`)
    language: str = "en"  # the service's language


@dataclass(frozen=True)
class CaseResult:
    file: Path
    case: FlowCase
    path: tuple[str, ...] = ()
    missing_heard: tuple[str, ...] = ()
    reason: EndReason | None = None
    error: str = ""
    broken: str = ""  # the case could not run (its flow does not load, a bad clock)

    @property
    def passed(self) -> bool:
        if self.broken or self.path != self.case.path or self.missing_heard:
            return False
        return self.case.ends is None or self.case.ends is self.reason


def flow_path(cases: CaseFile, flows_dir: Path) -> Path:
    """The flow file a test file names (a flow name, or a path relative to the test file)."""
    named = Path(cases.flow)
    if named.suffix in (".yaml", ".yml"):
        return cases.file.parent / named
    return flows_dir / f"{cases.flow}.yaml"


def _walk_path(sim: Simulation, top: str) -> tuple[str, ...]:
    events = sorted((step.event for step in sim.steps), key=lambda e: e.seq)
    return tuple(e.node if e.flow == top else f"{e.flow}/{e.node}" for e in events)


def _missing(sim: Simulation, fragments: Sequence[str]) -> tuple[str, ...]:
    """The fragments not found in what was said, searched in order (case-insensitive)."""
    said = "\n".join(e.text for e in sim.transcript if e.kind is EntryKind.SAID).casefold()
    missing: list[str] = []
    position = 0
    for fragment in fragments:
        found = said.find(fragment.casefold(), position)
        if found < 0:
            missing.append(fragment)
        else:
            position = found + len(fragment)
    return tuple(missing)


async def _run(
    case: FlowCase, cases: CaseFile, flow: Flow, library: FlowLibrary, env: CaseEnvironment
) -> CaseResult:
    try:
        start = parse_local(case.at, env.zone)
    except ClockError:
        return CaseResult(cases.file, case, broken=f"'at' {case.at!r} is not a date and time")
    clock = SimClock(start)
    channel = ScriptedChannel(
        script=parse_script(case.keys),
        caller_id=case.caller,
        dialled=case.dialled or env.numbers.get(flow.name, "sim"),
        id=f"case-{case.line}",
        clock=clock,
    )
    services = FlowServices(
        lookups=env.lookups,
        node_log=MemoryNodeLog(),
        surveys=MemorySurveys(),
        voicemails=MemoryVoicemails(),
        catalogue=env.catalogue,
        flows=library,
        transferrer=FixedTransferrer(case.transfer),
        clock=clock,
        language=env.language,
    )
    sim = await simulate(flow, channel, services, call_id=channel.id)
    return CaseResult(
        cases.file,
        case,
        path=_walk_path(sim, flow.name),
        missing_heard=_missing(sim, case.heard),
        reason=sim.result.reason,
        error=sim.result.error,
    )


async def run_case_file(cases: CaseFile, env: CaseEnvironment) -> list[CaseResult]:
    """Run every case of a file (each on a fresh simulated call)."""
    try:
        library, flow = FlowLibrary.for_flow(flow_path(cases, env.flows_dir), [env.flows_dir])
    except FlowError as exc:
        return [CaseResult(cases.file, case, broken=str(exc)) for case in cases.cases]
    return [await _run(case, cases, flow, library, env) for case in cases.cases]


def path_lines(expected: Sequence[str], actual: Sequence[str]) -> list[str]:
    """The expected and the actual path side by side (``!`` where they differ); none when equal."""
    if tuple(expected) == tuple(actual):
        return []
    width = max([len("expected"), *(len(node) for node in expected)])
    lines = [f"      {'expected':<{width}}  actual"]
    for index in range(max(len(expected), len(actual))):
        left = expected[index] if index < len(expected) else "-"
        right = actual[index] if index < len(actual) else "-"
        mark = " " if left == right else "!"
        lines.append(f"    {mark} {left:<{width}}  {right}")
    return lines


def failure_lines(result: CaseResult) -> list[str]:
    """Why a case failed: the paths side by side (``!`` where they differ), missing fragments, the end."""
    if result.broken:
        return [f"    cannot run: {line}" for line in result.broken.splitlines()]
    lines = path_lines(result.case.path, result.path)
    for fragment in result.missing_heard:
        lines.append(f"    not heard (in order): {fragment!r}")
    if result.case.ends is not None and result.case.ends is not result.reason:
        shown = result.reason.value if result.reason is not None else "-"
        lines.append(f"    ended {shown}, expected {result.case.ends.value}")
    if result.error:
        lines.append(f"    error: {result.error}")
    return lines
