"""One flow test case as a real call into the lab (``ivr flows test --live``): plan it, place it, judge it.

Planning walks the case's keys through the simulator to find where the flow asks for input, and hands
those segments to ``scenario_gen.plan_scenario`` (which estimates how long each prompt plays): the
caller presses each key where the simulated caller did, a little after the prompt is expected to end.
A record node is given speech ended by ``#``: the caller speaks from the previous input on until the node
log shows the record node, and 4 s more (the simulator's assumption); a live recording does not end on
its own before its ``max_seconds``.

The call: SIPp does the SIP, an ``RtpEar`` of ours is the caller's RTP (it hears, and sends the keys).
Then the node path is read from the node log (the call is the new one from that caller to that number),
and what was heard is judged (``heard.check_heard``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import tempfile
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ivr_engine.channel import Digits, DtmfKey, Media, Recording
from ivr_engine.config import Settings
from ivr_engine.flow.cases import FlowCase
from ivr_engine.flow.memory import MemoryNodeLog, MemorySurveys, MemoryVoicemails
from ivr_engine.flow.model import Flow
from ivr_engine.flow.ports import TransferOutcome
from ivr_engine.flow.services import FlowServices
from ivr_engine.flow.simulator import FixedTransferrer, ScriptedChannel, SimClock, parse_script, simulate
from ivr_engine.lab.errors import LabError
from ivr_engine.lab.heard import WAITING_TYPES, HeardCheck, Window, check_heard
from ivr_engine.lab.paths import LabPaths
from ivr_engine.lab.rtp_ear import RtpEar, SentItem, rtp_packets
from ivr_engine.lab.scenario_gen import PathSegment, plan_scenario
from ivr_engine.lab.sipp import (
    CallerScript,
    HangupBy,
    SippResult,
    render_caller_scenario,
    restamped_dtmf,
    run_scenario_file,
)
from ivr_engine.lab.speech_pcap import speech_pcap
from ivr_engine.storage import Database
from ivr_engine.storage.models import NodeEntryRow
from ivr_engine.storage.queries import CallDetail, call_detail

__all__ = ["LivePlan", "LiveRun", "NotPlayable", "plan_live_case", "run_live_case"]

RECORD_SPEECH_S = 4.0  # what the simulator assumes a caller says into a record node
INPUT_QUIET_S = 0.6  # a caller starts an input once the flow has been quiet this long (its prompt ended)
_FIRST_AUDIO_S = 20.0  # the longest a caller waits for the flow's first words
_SIPP_MARGIN_S = 1.5  # SIPp's clock starts at the answer, the ear's at the first audio


class NotPlayable(LabError):
    """A case the live lab cannot play as written (e.g. a transfer an agent must answer)."""


@dataclass(frozen=True)
class LivePlan:
    """What the live caller does for one case."""

    number: str
    items: tuple[SentItem, ...]
    answer_keys: tuple[int, ...]  # indices of keys that complete an input
    hangup_after_s: float | None  # from the first audio; None: the flow hangs up
    timeout_s: float


@dataclass
class _Asks(ScriptedChannel):
    """The simulator's channel, noting the script position of every request for input."""

    asked: list[tuple[int, bool]] = field(default_factory=list)

    @property
    def used(self) -> int:
        """How many tokens of the script the flow consumed."""
        return self._position

    async def collect(
        self,
        *,
        prompt: Sequence[Media] = (),
        max_digits: int,
        terminator: DtmfKey | None = DtmfKey.POUND,
        first_timeout: float = 5.0,
        inter_timeout: float = 3.0,
    ) -> Digits:
        self.asked.append((self._position, False))
        return await super().collect(
            prompt=prompt, max_digits=max_digits, terminator=terminator,
            first_timeout=first_timeout, inter_timeout=inter_timeout,
        )  # fmt: skip

    async def record(
        self, *, name: str, max_seconds: float, beep: bool = True, terminator: DtmfKey | None = DtmfKey.POUND,
        max_silence: float = 0.0,
    ) -> Recording:
        self.asked.append((self._position, True))
        return await super().record(name=name, max_seconds=max_seconds, beep=beep, terminator=terminator,
                                    max_silence=max_silence)


def _segment(tokens: Sequence[DtmfKey | None], is_record: bool, where: str) -> PathSegment:
    keys = "".join(str(t) for t in tokens if t is not None)
    if is_record:
        return PathSegment(keys=keys or "#", speech_s=RECORD_SPEECH_S)
    if tokens == (None,):
        return PathSegment(no_input=True)
    if None in tokens:
        raise LabError(f"{where}: keys then no input in one request cannot be played live")
    return PathSegment(keys=keys)


async def _segments(
    case: FlowCase, flow: Flow, services: FlowServices, number: str, start: datetime
) -> list[PathSegment]:
    tokens = parse_script(case.keys)
    clock = SimClock(start)
    channel = _Asks(script=tokens, caller_id=case.caller, dialled=number, clock=clock)
    await simulate(flow, channel, replace(services, clock=clock))
    segments: list[PathSegment] = []
    for index, (position, is_record) in enumerate(channel.asked):
        # The last request takes what the simulated caller used: keys left over were never asked for.
        end = channel.asked[index + 1][0] if index + 1 < len(channel.asked) else channel.used
        if position >= len(tokens) and not is_record:
            break  # the simulated caller stops here (hangs up)
        segments.append(_segment(tuple(tokens[position:end]), is_record, f"input {index + 1}"))
    return segments


def _items(script: CallerScript, starts: set[int], records: dict[int, str]) -> tuple[list[SentItem], float]:
    """The ear's schedule (from the first audio) and when it ends; ``starts`` are the indices of keys
    that begin an input: the caller waits there for the flow to fall quiet (its prompt has ended).
    ``records`` maps a key index to the record node speech before it waits for (``flow/node``)."""
    steps = script.steps()
    dtmf = restamped_dtmf(steps)
    items: list[SentItem] = []
    at = script.initial_wait_ms / 1000
    for index in range(len(steps) + 1):
        for cue in (c for c in script.audio if c.before_key == index):
            speech = tuple(rtp_packets(speech_pcap(cue.seconds)))
            items.append(SentItem(at, speech, node=records[index]))
            at += cue.seconds
        if index < len(steps):
            quiet = (
                INPUT_QUIET_S
                if index in starts and not any(c.before_key == index for c in script.audio)
                else 0
            )
            items.append(
                SentItem(at, tuple(rtp_packets(dtmf[index][1])), key=str(steps[index].key), quiet_s=quiet)
            )
            at += steps[index].pause_after_ms / 1000
    return items, at


async def plan_live_case(
    case: FlowCase, flow: Flow, services: FlowServices, number: str | None, start: datetime
) -> LivePlan:
    """Plan the caller of ``case``; raises LabError (or ScenarioPathError) if it cannot be played live."""
    if case.transfer is not TransferOutcome.NO_AGENTS:
        raise NotPlayable(
            f"transfer '{case.transfer.value}' needs agents in the lab's ACD; live runs log none in, "
            "so only 'no_agents' transfers are played"
        )
    if number is None:
        raise NotPlayable(
            f"flow {flow.name!r} has no service number (a sub-flow): its callers come through other flows"
        )
    services = replace(
        services, node_log=MemoryNodeLog(), surveys=MemorySurveys(), voicemails=MemoryVoicemails(),
        transferrer=FixedTransferrer(case.transfer),
    )  # fmt: skip
    segments = await _segments(case, flow, services, number, start)
    if not segments:
        raise LabError("the flow never asks this caller for anything: nothing to play live")
    plan = await plan_scenario(flow, segments, services, number=number, caller_id=case.caller, start=start)
    script = plan.script({RECORD_SPEECH_S: Path("speech.pcap")})
    answer_keys: list[int] = []
    starts: set[int] = set()
    records: dict[int, str] = {}
    pressed = 0
    for point in plan.inputs:
        if point.segment.speech_s:
            records[pressed] = f"{point.flow}/{point.node}"
        if point.segment.keys:
            starts.add(pressed)
            answer_keys.append(pressed + len(point.segment.keys) - 1)
        pressed += len(point.segment.keys)
    items, ends = _items(script, starts, records)
    hangup = None if script.hangup_after_s is None else ends + script.hangup_after_s
    return LivePlan(number, tuple(items), tuple(answer_keys), hangup, plan.timeout_s)


@dataclass(frozen=True)
class LiveRun:
    """What one live call gave."""

    sipp: SippResult
    call: CallDetail | None
    heard: HeardCheck | None
    packets: int = 0  # RTP packets the caller received
    keys_sent: str = ""

    @property
    def answered(self) -> bool:
        return self.sipp.answered > 0

    @property
    def hangup_by(self) -> HangupBy:
        return self.sipp.hangup_by


def _ari_channels(settings: Settings) -> list[dict[str, Any]]:
    token = base64.b64encode(f"{settings.ari_user}:{settings.ari_password}".encode()).decode()
    request = urllib.request.Request(
        f"{settings.ari_url}/channels", headers={"Authorization": f"Basic {token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        found: list[dict[str, Any]] = json.loads(response.read() or b"[]")
    return found


async def _channel_named(settings: Settings, name: str) -> str:
    """The id of the channel whose caller name is ``name`` (the call's id in the node log); runs until
    found or cancelled (when the call ends)."""
    while True:
        try:
            channels = await asyncio.to_thread(_ari_channels, settings)
        except Exception:  # any failed poll (HTTP, JSON, a busy ARI) is retried
            channels = []
        for channel in channels:
            if isinstance(channel, dict) and (channel.get("caller") or {}).get("name") == name:
                return str(channel["id"])
        await asyncio.sleep(0.25)


async def _ended_call(database: Database, call_id: str, timeout_s: float = 15) -> CallDetail | None:
    """The call once its end (and so its whole path) is stored."""
    for _ in range(int(timeout_s * 4)):
        detail = await database.run(partial(call_detail, call_id=call_id))
        if detail is not None and detail.call.ended is not None:
            return detail
        await asyncio.sleep(0.25)
    return None


def _timeout_s(plan: LivePlan) -> float:
    """The plan's bound is estimated from word counts (short for Mandarin, which has no spaces), and
    the live caller also waits for quiet: give the call twice that, and a minute more."""
    return plan.timeout_s * 2 + 60


def _current_node(session: Session, call_id: str) -> str:
    row = session.get(NodeEntryRow, call_id)
    return "" if row is None else f"{row.flow}/{row.node}"


async def _in_node(database: Database, call_id: str, node: str) -> None:
    """Return once the node log says call ``call_id`` has entered ``node`` (cancelled when the call ends)."""
    while True:
        if await database.run(partial(_current_node, call_id=call_id)) == node:
            return
        await asyncio.sleep(0.2)


def _planned(detail: CallDetail, clock_offset: timedelta) -> list[Window]:
    return [
        Window((s.entered - clock_offset).timestamp(), (s.left - clock_offset).timestamp())
        for s in detail.path
        if s.node_type in WAITING_TYPES
    ]


async def run_live_case(
    settings: Settings, database: Database, case: FlowCase, plan: LivePlan, clock_offset: timedelta
) -> LiveRun:
    """Place the call of ``plan`` (its caller name a fresh token, by which its channel, and so its call
    id, is found in ARI while it runs) and read back its node path; ``clock_offset`` is the service's clock
    minus wall time (node log times are the service's)."""
    ear = RtpEar(settings.sip_host)
    await ear.open()
    try:
        hangup = None if plan.hangup_after_s is None else plan.hangup_after_s + _SIPP_MARGIN_S
        script = CallerScript(
            number=plan.number, caller_id=case.caller, initial_wait_ms=1, hangup_after_s=hangup,
            timeout_s=_timeout_s(plan),
        )  # fmt: skip
        base = LabPaths.for_state_dir(settings.state_dir).sipp
        base.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="live-case-", dir=base))
        scenario = folder / "scenario.xml"
        name = f"case-{uuid.uuid4().hex[:16]}"  # the caller name: how we find the call's channel
        scenario.write_text(render_caller_scenario(script, [], sdp_port=ear.port, display_name=name))
        sipp = asyncio.create_task(run_scenario_file(settings, scenario, _timeout_s(plan)))
        channel = asyncio.create_task(_channel_named(settings, name))

        async def gate(node: str) -> None:
            await _in_node(database, await asyncio.shield(channel), node)

        perform = asyncio.create_task(ear.perform(plan.items, _FIRST_AUDIO_S, gate))
        result = await sipp
        for task in (perform, channel):
            if not task.done():
                task.cancel()
        await asyncio.gather(perform, channel, return_exceptions=True)
    finally:
        ear.close()
    call_id = channel.result() if not channel.cancelled() and channel.exception() is None else None
    detail = await _ended_call(database, call_id) if call_id is not None else None
    heard = None
    if detail is not None:
        heard = check_heard(ear.heard, plan.answer_keys, _planned(detail, clock_offset))
    sent = "".join(key for _, key in ear.heard.keys)
    return LiveRun(result, detail, heard, len(ear.heard.packets), sent)
