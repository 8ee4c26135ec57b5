"""Plan one flow test case as a real call into the lab (``ivr flows test --live``): what the caller sends,
when, and which agents the lab's ACD needs for it.

Planning walks the case's keys through the simulator to find where the flow asks for input, and hands
those segments to ``scenario_gen.plan_scenario`` (which estimates how long each prompt plays): the
caller presses each key where the simulated caller did, a little after the prompt is expected to end.
A record node is given speech ended by ``#``: the caller speaks from the previous input on until the node
log shows the record node, and 4 s more (the simulator's assumption); a live recording does not end on
its own before its ``max_seconds``.

Transfers end as the live ACD finds its agents (``AgentNeed``): ``no_agents`` with nobody logged in,
``completed`` with a ready agent whose phone answers and hangs up after a short talk, ``callback`` and
``overflow`` with agents logged in but paused, so the caller waits on hold: for ``callback`` the caller
presses the hold's callback key once the call is queued (the ACD's ``queue_calls`` row), for
``overflow`` it waits for the queue's ``max_wait``. How long a transfer lasts cannot be planned, so the
first input after one waits until the node log shows the call in the node that asks, then for that
node's prompt to play and end.

A case of a sub-flow without a service number is played through a flow that has one (``live_entry``):
the caller dials it and first presses the keys that lead into the sub-flow; the simulator must walk
the sub-flow that way exactly as it walks the case alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from acd.live.hold import HoldOptions
from ivr_engine.channel import Digits, DtmfKey, Media, Recording
from ivr_engine.flow.cases import FlowCase
from ivr_engine.flow.interpreter import EndReason
from ivr_engine.flow.memory import MemoryNodeLog, MemorySurveys, MemoryVoicemails
from ivr_engine.flow.model import Flow
from ivr_engine.flow.ports import TransferOutcome
from ivr_engine.flow.services import FlowServices
from ivr_engine.flow.simulator import FixedTransferrer, ScriptedChannel, SimClock, parse_script, simulate
from ivr_engine.lab.errors import LabError
from ivr_engine.lab.live_entry import Entry, PathParts, split_path
from ivr_engine.lab.rtp_ear import SentItem, rtp_packets
from ivr_engine.lab.scenario_gen import PathSegment, ScenarioPlan, plan_scenario
from ivr_engine.lab.sipp import CallerScript, restamped_dtmf
from ivr_engine.lab.speech_pcap import speech_pcap

__all__ = ["AGENT_ALLOWANCE_S", "AgentNeed", "LivePlan", "NotPlayable", "plan_live_case"]

RECORD_SPEECH_S = 4.0  # what the simulator assumes a caller says into a record node
INPUT_QUIET_S = 0.6  # a caller starts an input once the flow has been quiet this long (its prompt ended)
CALLBACK_KEY = HoldOptions().callback_key  # the service's hold offers this key (acd.live.hold)
CALLBACK_AFTER_S = 3.0  # pressed this long after the caller was queued: the hold announcement plays
AGENT_ALLOWANCE_S = 90.0  # more time for a call when agents (or a queue's max_wait) take part


class NotPlayable(LabError):
    """A case the live lab cannot play as written (e.g. a transfer that must fail)."""


class AgentNeed(StrEnum):
    """What the lab's ACD must look like while a case plays."""

    ANY = "any"  # the case reaches no transfer
    NONE = "none"  # nobody logged in: transfers end no_agents
    READY = "ready"  # a ready agent whose phone answers: completed
    PAUSED = "paused"  # agents logged in and paused: the caller waits (callback key, or overflow)


_NEEDS = {
    TransferOutcome.NO_AGENTS: AgentNeed.NONE,
    TransferOutcome.COMPLETED: AgentNeed.READY,
    TransferOutcome.CALLBACK: AgentNeed.PAUSED,
    TransferOutcome.OVERFLOW: AgentNeed.PAUSED,
}


@dataclass(frozen=True)
class LivePlan:
    """What the live caller does for one case."""

    number: str
    items: tuple[SentItem, ...]
    answer_keys: tuple[int, ...]  # indices of keys that complete an input
    hangup_after_s: float | None  # from the first audio; None: the flow hangs up
    timeout_s: float
    agents: AgentNeed = AgentNeed.ANY
    entry: Entry | None = None  # how a sub-flow without a number is reached
    around: PathParts | None = None  # with ``entry``: the path expected before and after the sub-flow
    ends: EndReason | None = None  # the end to expect (the case's; see ``plan_live_case``)


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


@dataclass(frozen=True)
class _Walk:
    segments: list[PathSegment]
    steps: list[tuple[str, str]]  # (flow, node) entered, in order
    ended: EndReason


async def _walk(keys: str, case: FlowCase, flow: Flow, services: FlowServices, number: str,
                start: datetime) -> _Walk:
    tokens = parse_script(keys)
    clock = SimClock(start)
    channel = _Asks(script=tokens, caller_id=case.caller, dialled=number, clock=clock)
    sim = await simulate(flow, channel, replace(services, clock=clock))
    segments: list[PathSegment] = []
    for index, (position, is_record) in enumerate(channel.asked):
        # The last request takes what the simulated caller used: keys left over were never asked for.
        end = channel.asked[index + 1][0] if index + 1 < len(channel.asked) else channel.used
        if position >= len(tokens) and not is_record:
            break  # the simulated caller stops here (hangs up)
        segments.append(_segment(tuple(tokens[position:end]), is_record, f"input {index + 1}"))
    steps = [(step.event.flow, step.event.node) for step in sim.steps]
    return _Walk(segments, steps, sim.result.reason)


@dataclass(frozen=True)
class _Keyed:
    """Per key of the caller's script (by index): where inputs start, record speech, gates."""

    starts: set[int] = field(default_factory=set)
    records: dict[int, str] = field(default_factory=dict)  # key index -> record node spoken into first
    gates: dict[int, tuple[str, float]] = field(default_factory=dict)  # key -> (node to wait for, after s)
    holds: set[int] = field(default_factory=set)  # gated keys that also wait until the call is queued
    answers: list[int] = field(default_factory=list)


def _transfers(plan: ScenarioPlan) -> tuple[set[int], list[tuple[int, str]]]:
    """The inputs that follow a transfer (by index), and each transfer (the input index it comes before,
    ``flow/node``), from the expected node path in order of entry."""
    expected = plan.expected
    names = [(step.flow, step.node) for step in expected]
    gated: set[int] = set()
    found: list[tuple[int, str]] = []
    cursor = 0
    for index, point in enumerate(plan.inputs):
        at = next((j for j in range(cursor, len(names)) if names[j] == (point.flow, point.node)), None)
        if at is None:
            break
        for step in expected[cursor:at]:
            if step.node_type == "transfer":
                found.append((index, f"{step.flow}/{step.node}"))
                gated.add(index)
        cursor = at
    last = len(plan.inputs)
    found += [(last, f"{s.flow}/{s.node}") for s in expected[cursor:] if s.node_type == "transfer"]
    return gated, found


def _keyed(plan: ScenarioPlan, callbacks: bool) -> tuple[_Keyed, list[int]]:
    """The script's per-key facts; with ``callbacks``, also the script indices where a callback key is
    inserted (one per transfer), the facts already counted with those keys in."""
    gated, transfers = _transfers(plan)
    keyed = _Keyed()
    inserted: list[int] = []
    pressed = 0
    for index in range(len(plan.inputs) + 1):
        if callbacks:
            for node in (n for i, n in transfers if i == index):
                keyed.gates[pressed] = (node, CALLBACK_AFTER_S)
                keyed.holds.add(pressed)
                keyed.answers.append(pressed)
                inserted.append(pressed)
                pressed += 1
        if index == len(plan.inputs):
            break
        point = plan.inputs[index]
        if point.segment.speech_s:
            keyed.records[pressed] = f"{point.flow}/{point.node}"
        if point.segment.keys:
            keyed.starts.add(pressed)
            keyed.answers.append(pressed + len(point.segment.keys) - 1)
            if index in gated and not point.segment.speech_s:
                keyed.gates[pressed] = (f"{point.flow}/{point.node}", 0.0)
        pressed += len(point.segment.keys)
    return keyed, inserted


def _with_keys(script: CallerScript, inserted: Sequence[int], key: DtmfKey) -> CallerScript:
    """``script`` with ``key`` pressed at each index of ``inserted`` (indices of the new script)."""
    digits = list(script.digits)
    pauses = [step.pause_after_ms for step in script.steps()]
    audio = list(script.audio)
    for at in inserted:
        digits.insert(at, key.value)
        pauses.insert(at, 0)
        audio = [replace(c, before_key=c.before_key + 1) if c.before_key >= at else c for c in audio]
    return replace(script, digits="".join(digits), pauses_ms=tuple(pauses), audio=tuple(audio))


def _items(script: CallerScript, keyed: _Keyed) -> tuple[list[SentItem], float]:
    """The ear's schedule (from the first audio) and when it ends. A key that begins an input
    (``keyed.starts``) waits there for the flow to fall quiet (its prompt has ended); a gated key first
    waits for its node (``keyed.gates``); record speech waits for its record node (``keyed.records``)."""
    steps = script.steps()
    dtmf = restamped_dtmf(steps)
    items: list[SentItem] = []
    at = script.initial_wait_ms / 1000
    for index in range(len(steps) + 1):
        for cue in (c for c in script.audio if c.before_key == index):
            speech = tuple(rtp_packets(speech_pcap(cue.seconds)))
            items.append(SentItem(at, speech, node=keyed.records[index]))
            at += cue.seconds
        if index < len(steps):
            quiet = (
                INPUT_QUIET_S
                if index in keyed.starts and not any(c.before_key == index for c in script.audio)
                else 0
            )
            node, after = keyed.gates.get(index, ("", 0.0))
            items.append(SentItem(
                at, tuple(rtp_packets(dtmf[index][1])), key=str(steps[index].key), quiet_s=quiet, node=node,
                after_s=after, on_hold=index in keyed.holds,
            ))  # fmt: skip
            at += steps[index].pause_after_ms / 1000
    return items, at


async def _route(
    case: FlowCase, flow: Flow, services: FlowServices, number: str | None, start: datetime,
    entry: Entry | None, dialled: Flow | None,
) -> tuple[_Walk, Flow, str, PathParts | None, EndReason | None]:
    """Walk the case as the live caller will: the walk, the flow dialled, its number, the path expected
    around a sub-flow and the end to expect."""
    if number is not None:
        return await _walk(case.keys, case, flow, services, number, start), flow, number, None, case.ends
    if entry is None or dialled is None:
        raise NotPlayable(
            f"flow {flow.name!r} has no service number, and no flow with one leads to it by menu keys"
        )
    alone = await _walk(case.keys, case, flow, services, "sim", start)
    walk = await _walk(f"{entry.keys} {case.keys}", case, dialled, services, entry.number, start)
    parts = split_path(walk.steps, entry)
    expected = tuple(node if f == flow.name else f"{f}/{node}" for f, node in alone.steps)
    if parts.sub != expected:
        raise LabError(
            f"{entry.describe()}, the simulator walks sub-flow {flow.name} as {list(parts.sub)}, "
            f"not as the case alone: {list(expected)}"
        )
    # A sub-flow that returns hands the call back; the end is then the dialled flow's (the caller, out of
    # keys, hangs up at its next question).
    ends = case.ends if case.ends is None or walk.ended is alone.ended else walk.ended
    return walk, dialled, entry.number, parts, ends


async def plan_live_case(
    case: FlowCase, flow: Flow, services: FlowServices, number: str | None, start: datetime,
    entry: Entry | None = None, dialled: Flow | None = None,
) -> LivePlan:
    """Plan the caller of ``case``; raises LabError (or ScenarioPathError) if it cannot be played live.
    ``number`` None: a sub-flow, reached by ``entry`` from ``dialled`` (``services.flows`` holds both)."""
    services = replace(
        services, node_log=MemoryNodeLog(), surveys=MemorySurveys(), voicemails=MemoryVoicemails(),
        transferrer=FixedTransferrer(case.transfer),
    )  # fmt: skip
    walk, walked, number, around, ends = await _route(case, flow, services, number, start, entry, dialled)
    if not walk.segments:
        raise LabError("the flow never asks this caller for anything: nothing to play live")
    plan = await plan_scenario(walked, walk.segments, services, number=number, caller_id=case.caller,
                               start=start)  # fmt: skip
    transfers = any(step.node_type == "transfer" for step in plan.expected)
    need = _NEEDS.get(case.transfer) if transfers else AgentNeed.ANY
    if need is None:
        raise NotPlayable(f"transfer '{case.transfer.value}' is the ACD failing: the lab cannot make it fail")
    keyed, inserted = _keyed(plan, callbacks=transfers and case.transfer is TransferOutcome.CALLBACK)
    script = _with_keys(plan.script({RECORD_SPEECH_S: Path("speech.pcap")}), inserted, CALLBACK_KEY)
    items, ends_at = _items(script, keyed)
    if script.hangup_after_s is not None and need in (AgentNeed.READY, AgentNeed.PAUSED):
        raise NotPlayable(
            "the caller hangs up after a transfer to an agent: how long that takes cannot be planned"
        )
    hangup = None if script.hangup_after_s is None else ends_at + script.hangup_after_s
    return LivePlan(
        number, tuple(items), tuple(sorted(keyed.answers)), hangup, plan.timeout_s, need, entry, around, ends,
    )  # fmt: skip
