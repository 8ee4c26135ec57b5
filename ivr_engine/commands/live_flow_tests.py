"""What ``ivr flows test --live`` does: the flow test cases as real calls into the running lab.

Cases are grouped by their clock (``at``). For each group the lab's ``ivr serve`` is restarted on that
clock (Asterisk keeps running) with ``live-acd.yaml``, the lab's ACD configuration with a short
``max_wait`` (``live_agents``); afterwards it is restarted once more on the lab's own clock and
configuration. Inside a group a few calls run at once (each call is found by a caller name of its own):
cases whose transfers need the agents in one state (none logged in, ready, paused) run in blocks, the
others fill in (``live_schedule``). Cases of a sub-flow without a service number are reached through a
flow that has one (``live_entry``). See docs/flows.md.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import yaml

from ivr_engine.clock import ClockError, parse_local
from ivr_engine.config import ConfigError, Settings, load_settings
from ivr_engine.flow.case_run import flow_path, path_lines
from ivr_engine.flow.cases import FlowCase, read_cases
from ivr_engine.flow.errors import FlowError, Problem
from ivr_engine.flow.interpreter import EndReason
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.memory import MemoryNodeLog, MemorySurveys, MemoryVoicemails
from ivr_engine.flow.services import FlowServices
from ivr_engine.lab.control import Component, restart_serve, status
from ivr_engine.lab.errors import LabError
from ivr_engine.lab.heard import HeardCheck
from ivr_engine.lab.live_agents import lab_agent_count, lab_agents, live_acd_file, logged_in
from ivr_engine.lab.live_cases import run_live_case
from ivr_engine.lab.live_entry import find_entry, split_path
from ivr_engine.lab.live_plan import AgentNeed, LivePlan, NotPlayable, plan_live_case
from ivr_engine.lab.live_schedule import play_clock_group
from ivr_engine.lab.paths import LabPaths
from ivr_engine.lab.sipp import HangupBy
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.prompts.errors import CatalogueError

__all__ = ["LIVE_MAX_WAIT_S", "LiveCaseResult", "lab_settings", "live_failure_lines", "run_live"]

LIVE_MAX_WAIT_S = 15.0
"""Default of ``--max-wait``: the queues' ``max_wait`` in the live run's ACD configuration (at most)."""

Echo = Callable[[str], None]
_ENDED_BY = {HangupBy.FAR_END: EndReason.COMPLETED, HangupBy.CALLER: EndReason.CALLER_HUNG_UP}


@dataclass(frozen=True)
class LiveCaseResult:
    file: Path
    case: FlowCase
    path: tuple[str, ...] = ()
    answered: bool = False
    ended: EndReason | None = None  # as the caller saw it: the far end's BYE (completed) or its own
    heard: HeardCheck | None = None
    call_id: str = ""
    seconds: float = 0.0
    logs: str = ""  # SIPp's logs of the call
    packets: int = 0  # RTP packets received
    keys_sent: str = ""
    skipped: str = ""  # why the case is not played live
    broken: str = ""  # why it could not be played
    expected_ends: EndReason | None = None  # the plan's (the case's ``ends``, see live_plan)
    agents: AgentNeed = AgentNeed.ANY
    entry: str = ""  # a sub-flow's case: how the caller reached it
    around: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # the path before and after the sub-flow
    expected_around: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

    @property
    def passed(self) -> bool:
        if self.skipped:
            return True
        if self.broken or not self.answered or self.path != self.case.path:
            return False
        if self.around != self.expected_around:
            return False
        if self.heard is None or not self.heard.passed:
            return False
        return self.expected_ends in (None, EndReason.ERROR) or self.expected_ends is self.ended

    def as_json(self) -> dict[str, object]:
        return {
            "file": str(self.file), "line": self.case.line, "name": self.case.name,
            "passed": self.passed and not self.skipped, "skipped": self.skipped or None,
            "broken": self.broken or None, "answered": self.answered, "call_id": self.call_id or None,
            "expected_path": list(self.case.path), "path": list(self.path),
            "ended": None if self.ended is None else self.ended.value,
            "heard_audio_s": None if self.heard is None else self.heard.audio_s,
            "answer_delays_s": [] if self.heard is None else list(self.heard.answers),
            "heard_problems": [] if self.heard is None else self.heard.problems(),
            "seconds": round(self.seconds, 1), "logs": self.logs or None,
            "rtp_packets": self.packets, "keys_sent": self.keys_sent, "agents": self.agents.value,
            "entry": self.entry or None, "path_around": [list(p) for p in self.around],
            "expected_path_around": [list(p) for p in self.expected_around],
        }  # fmt: skip


def live_failure_lines(result: LiveCaseResult) -> list[str]:
    """Why a live case failed: not answered, the paths side by side, what was heard, how it ended."""
    if result.broken:
        return [f"    cannot run live: {line}" for line in result.broken.splitlines()]
    lines = [] if result.answered else ["    the call was not answered"]
    if result.entry and result.around != result.expected_around:
        lines.append(f"    reached by {result.entry}: the path around the sub-flow")
        lines += path_lines([*result.expected_around[0], "...", *result.expected_around[1]],
                            [*result.around[0], "...", *result.around[1]])  # fmt: skip
    lines += path_lines(result.case.path, result.path)
    if result.heard is not None:
        lines += [f"    heard: {problem}" for problem in result.heard.problems()]
    elif result.answered:
        lines.append("    the call never appeared ended in the node log")
    if result.expected_ends not in (None, EndReason.ERROR) and result.expected_ends is not result.ended:
        shown = result.ended.value if result.ended is not None else "-"
        assert result.expected_ends is not None
        lines.append(f"    ended {shown}, expected {result.expected_ends.value}")
    if result.call_id:
        lines.append(f"    call {result.call_id} (`ivr calls show {result.call_id}`)")
    if not result.call_id and result.answered:
        lines.append(
            f"    the call was not found (received {result.packets} RTP packets, "
            f"sent keys {result.keys_sent!r})"
        )
    if result.logs:
        lines.append(f"    SIPp logs: {result.logs}")
    return lines


def lab_settings(settings: Settings) -> Settings:
    """The running lab's settings (its settings file); ClickException when no lab runs there."""
    paths = LabPaths.for_state_dir(settings.state_dir)
    running = status(settings)
    if not (running.state_of(Component.ASTERISK).running and running.state_of(Component.SERVE).running):
        raise click.ClickException(
            f"no lab runs in {paths.root} (Asterisk and ivr serve): start one with `ivr lab up` "
            "(or give its --state-dir)"
        )
    try:
        return load_settings(paths.settings_file, state_dir=settings.state_dir).with_secrets()
    except ConfigError as exc:
        raise click.ClickException(f"cannot read the lab's settings: {exc}") from None


@dataclass(frozen=True)
class _Planned:
    file: Path
    case: FlowCase
    start: datetime | None = None
    plan: LivePlan | None = None
    skipped: str = ""
    broken: str = ""


async def _plan_all(files: Sequence[Path], lab: Settings) -> tuple[list[Problem], list[_Planned]]:
    from ivr_engine.centre import centre_time
    from ivr_engine.storage import Database
    from ivr_engine.storage.lookups import SqlLookups
    from ivr_engine.storage.pins import PinKeyFile, Pins

    try:
        catalogue = load_catalogue(lab.sounds_dir / "prompts.yaml", lab.sounds_dir)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from None
    served = FlowLibrary.lenient([lab.flows_dir])  # what the lab's service runs
    zone = centre_time(lab, served).zone
    numbers = {name: number for number, name in lab.service_numbers.items()}
    problems: list[Problem] = []
    planned: list[_Planned] = []
    database = Database(lab.db_url, read_only=True)  # planning reads customers, as the service does
    pins = Pins(PinKeyFile(lab.pin_key_path))
    try:
        for file in files:
            cases = read_cases(file)
            problems.extend(cases.problems)
            try:
                library, flow = FlowLibrary.for_flow(flow_path(cases, lab.flows_dir), [lab.flows_dir])
            except FlowError as exc:
                planned += [_Planned(file, case, broken=str(exc)) for case in cases.cases]
                continue
            services = FlowServices(
                lookups=SqlLookups(database, pins), node_log=MemoryNodeLog(), surveys=MemorySurveys(),
                voicemails=MemoryVoicemails(), catalogue=catalogue, flows=library, language=lab.language,
            )  # fmt: skip
            number = numbers.get(flow.name)
            entry = find_entry(flow.name, served, lab.service_numbers) if number is None else None
            dialled = served.get(entry.dialled_flow) if entry is not None else None
            if dialled is not None:
                services = replace(services, flows=served)
            for case in cases.cases:
                try:
                    start = parse_local(case.at, zone)
                    plan = await plan_live_case(case, flow, services, case.dialled or number, start,
                                                entry, dialled)  # fmt: skip
                except NotPlayable as exc:
                    planned.append(_Planned(file, case, skipped=str(exc)))
                except (LabError, ClockError) as exc:
                    planned.append(_Planned(file, case, broken=str(exc)))
                else:
                    planned.append(_Planned(file, case, start, plan))
    finally:
        database.dispose()
    return problems, planned


async def _play(lab: Settings, item: _Planned, offset: timedelta) -> LiveCaseResult:
    from ivr_engine.storage import Database

    assert item.plan is not None
    began = time.monotonic()
    database = Database(lab.db_url, read_only=True)
    try:
        run = await run_live_case(lab, database, item.case, item.plan, offset)
    except LabError as exc:
        return LiveCaseResult(item.file, item.case, broken=str(exc), seconds=time.monotonic() - began)
    finally:
        database.dispose()
    plan = item.plan
    steps = run.call.path if run.call is not None else ()
    top = steps[0].flow if steps else ""
    path = tuple(s.node if s.flow == top else f"{s.flow}/{s.node}" for s in steps)
    around: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    expected: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    if plan.entry is not None and plan.around is not None:
        parts = split_path([(s.flow, s.node) for s in steps], plan.entry)
        path, around = parts.sub, (parts.before, parts.after)
        expected = (plan.around.before, plan.around.after)
    return LiveCaseResult(
        item.file, item.case, path=path, answered=run.answered, ended=_ENDED_BY.get(run.hangup_by),
        heard=run.heard, call_id=run.call.call.call_id if run.call else "",
        seconds=time.monotonic() - began, logs=str(run.sipp.run_dir), packets=run.packets,
        keys_sent=run.keys_sent, expected_ends=plan.ends, agents=plan.agents,
        entry=plan.entry.describe() if plan.entry is not None else "", around=around,
        expected_around=expected,
    )  # fmt: skip


def _progress(result: LiveCaseResult) -> str:
    word = "SKIP" if result.skipped else ("PASS" if result.passed else "FAIL")
    where = f"{result.file}:{result.case.line}"
    extra = f"  ({result.skipped})" if result.skipped else f"  ({result.seconds:.0f} s)"
    return f"{word}  {where}  {result.case.name}{extra}"


def _lab_clock(paths: LabPaths) -> tuple[str, str]:
    written = yaml.safe_load(paths.settings_file.read_text()) or {}
    return str(written.get("clock_start") or ""), str(written.get("clock_anchor") or "")


async def _run_clock(
    lab: Settings, items: Sequence[_Planned], offset: timedelta, concurrency: int, echo: Echo
) -> list[LiveCaseResult]:
    def need_of(item: _Planned) -> AgentNeed:
        assert item.plan is not None
        return item.plan.agents

    async def play(item: _Planned) -> LiveCaseResult:
        result = await _play(lab, item, offset)
        echo(_progress(result))
        return result

    def broken(item: _Planned, why: str) -> LiveCaseResult:
        result = LiveCaseResult(item.file, item.case, broken=why)
        echo(_progress(result))
        return result

    def agents(need: AgentNeed) -> AbstractAsyncContextManager[int]:
        echo(f"-- logging in the lab's agents, {'ready' if need is AgentNeed.READY else 'paused'}")
        return lab_agents(lab, need)

    return await play_clock_group(
        items, need_of, play, agents, lab_agent_count(lab), concurrency, broken
    )  # fmt: skip


async def run_live(
    files: Sequence[Path], settings: Settings, echo: Echo, concurrency: int = 3,
    max_wait_s: float = LIVE_MAX_WAIT_S,
) -> tuple[list[Problem], list[LiveCaseResult]]:
    """Play every case of ``files`` in the lab at ``settings.state_dir``, one clock at a time (see the
    module doc); ``max_wait_s`` caps the queues' ``max_wait`` meanwhile."""
    lab = lab_settings(settings)
    problems, planned = await _plan_all(files, lab)
    results = {id(p): LiveCaseResult(p.file, p.case, skipped=p.skipped, broken=p.broken)
               for p in planned if p.plan is None}  # fmt: skip
    for result in results.values():
        echo(_progress(result))
    groups: dict[datetime, list[_Planned]] = {}
    for item in sorted(planned, key=lambda p: -(p.plan.timeout_s if p.plan is not None else 0)):
        if item.plan is not None and item.start is not None:  # longest first: no long call at the end
            groups.setdefault(item.start, []).append(item)
    if not groups:
        return problems, [results[id(item)] for item in planned]
    busy = await logged_in(lab)
    if busy:
        raise LabError(
            f"agents {', '.join(busy)} are logged in to the lab: the live run logs in the agents each case "
            "needs, from none (log them out: `ivr agent logout ID`)"
        )
    live = replace(lab, agents_file=live_acd_file(lab, max_wait_s))
    paths = LabPaths.for_state_dir(lab.state_dir)
    own_start, own_anchor = _lab_clock(paths)
    quiet: Echo = lambda _line: None  # noqa: E731
    try:
        for start, items in sorted(groups.items()):
            anchor = datetime.now(UTC)
            echo(f"-- {len(items)} cases on the clock {start.isoformat()} (restarting ivr serve)")
            clocked = replace(live, clock_start=start.isoformat(), clock_anchor=anchor.isoformat())
            await asyncio.to_thread(restart_serve, clocked, 60.0, quiet)
            played = await _run_clock(live, items, start - anchor, concurrency, echo)
            results.update({id(item): result for item, result in zip(items, played, strict=True)})
    finally:
        echo("-- back to the lab's own clock and acd.yaml (restarting ivr serve)")
        restored = replace(lab, clock_start=own_start, clock_anchor=own_anchor)
        await asyncio.to_thread(restart_serve, restored, 60.0, quiet)
    return problems, [results[id(item)] for item in planned]
