"""Plan a SIPp caller that walks a chosen path through a flow (``ivr sipp generate``).

Path syntax: one segment per time the flow asks for input, separated by ``/``::

    100200#/4321#/9          balance: account number, PIN, then 9 at the menu after the balance
    ask_account=100200#/...   the same, checking that ask_account is the node asking
    T/1                      no input at the first menu (it times out and re-prompts), then 1
    ~3#                      speak for 3 s into a record node, then end the message with #

The plan comes from walking the flow through the real interpreter (the simulator's scripted channel,
with lookups against the database and no writes): it tells which node asks for each segment, how long
the caller hears prompts before that (estimated from the prompt text), and the node path the call is
expected to leave in the node log. A segment must start exactly where the flow asks for input, so a
path that types ahead or splits one entry in two is refused with the nodes that did ask.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from ivr_engine.channel import Digits, DtmfKey, Media, Prompt, Recording, Say, Silence, Tts
from ivr_engine.flow.interpreter import EndReason
from ivr_engine.flow.memory import MemoryNodeLog, MemorySurveys, MemoryVoicemails
from ivr_engine.flow.model import Flow
from ivr_engine.flow.ports import NodeEvent
from ivr_engine.flow.services import FlowServices
from ivr_engine.flow.simulator import ScriptedChannel, SimClock, simulate
from ivr_engine.lab.errors import LabError
from ivr_engine.lab.sipp import AudioCue, CallerScript, render_caller_scenario, restamped_dtmf
from ivr_engine.lab.speech_pcap import speech_pcap

__all__ = [
    "ExpectedStep",
    "InputPoint",
    "PathSegment",
    "ScenarioPathError",
    "ScenarioPlan",
    "parse_path",
    "plan_scenario",
    "write_scenario",
]

_SEGMENT = re.compile(
    r"(?:(?P<node>[A-Za-z_][\w-]*)=)?(?:(?P<timeout>[Tt])|~(?P<speech>\d+(?:\.\d+)?)(?P<after>[0-9*#]*)|(?P<keys>[0-9*#]+))"
)
# Estimates err short: keys typed while a prompt still plays are kept (type-ahead), keys typed after
# the input's timeout are not. A record drops keys and audio sent before it starts, so it errs long.
_WORD_S = 0.3  # espeak-ng via pyttsx3 speaks ~200 words a minute
_SAY_CHAR_S = 0.55  # Asterisk's number/digit sounds per character of the value
_MEDIA_GAP_S = 0.3
_KEY_S = 0.6  # one key press plus the pause after it
_INPUT_MARGIN_S = 0.5  # start typing this long after the prompt's estimated end
_RECORD_MARGIN_S = 2.0  # speak only once the record has surely started
_RECORD_SLACK = 1.3
_HANGUP_MARGIN_S = 2.0


class ScenarioPathError(LabError):
    """A ``--path`` that cannot be parsed, or that does not fit the flow it is meant to walk."""


@dataclass(frozen=True)
class PathSegment:
    """What the caller gives at one request for input: keys, no input (``T``), or speech then keys."""

    keys: str = ""
    speech_s: float = 0.0
    no_input: bool = False
    node: str | None = None

    @property
    def tokens(self) -> tuple[DtmfKey | None, ...]:
        """The simulator's script for this segment (``None`` = no input)."""
        return (None,) if self.no_input else tuple(DtmfKey(k) for k in self.keys)

    def __str__(self) -> str:
        given = "T" if self.no_input else (f"~{self.speech_s:g}" if self.speech_s else "") + self.keys
        return f"{self.node}={given}" if self.node else given


def parse_path(text: str) -> tuple[PathSegment, ...]:
    """Segments of a ``--path``; raises ScenarioPathError naming the bad segment."""
    parts = [p.strip() for p in text.strip().split("/")]
    if not text.strip() or any(not p for p in parts):
        raise ScenarioPathError(f"path {text!r}: empty segment (write e.g. '1/100200#/4321#')")
    segments: list[PathSegment] = []
    for number, part in enumerate(parts, start=1):
        match = _SEGMENT.fullmatch(part)
        if match is None:
            raise ScenarioPathError(
                f"path segment {number} {part!r}: expected keys (0-9 * #), T (no input), "
                "~SECONDS then keys (speech, e.g. ~3#), optionally after NODE="
            )
        node = match["node"]
        if match["timeout"]:
            segments.append(PathSegment(no_input=True, node=node))
        elif match["speech"] is not None:
            seconds = float(match["speech"])
            if not 0 < seconds <= 600:
                raise ScenarioPathError(f"path segment {number} {part!r}: speak between 0 and 600 s")
            if not match["after"]:
                raise ScenarioPathError(
                    f"path segment {number} {part!r}: end the speech with the record's terminator (e.g. ~3#)"
                )
            segments.append(PathSegment(keys=match["after"], speech_s=seconds, node=node))
        else:
            segments.append(PathSegment(keys=match["keys"], node=node))
    return tuple(segments)


@dataclass(frozen=True)
class ExpectedStep:
    """One node the call is expected to pass, as the node log will record it."""

    flow: str
    node: str
    node_type: str
    input: str | None
    outcome: str

    @classmethod
    def of(cls, event: NodeEvent) -> ExpectedStep:
        return cls(event.flow, event.node, event.node_type, event.input, event.outcome)


@dataclass(frozen=True)
class InputPoint:
    """Where the flow asks for input, what the caller gives there, and how long the caller waits first
    (from the end of the previous keys, or from the answer)."""

    flow: str
    node: str
    segment: PathSegment
    wait_ms: int


@dataclass(frozen=True)
class ScenarioPlan:
    """Everything a generated caller scenario does, and what it should leave in the node log."""

    flow: str
    number: str
    caller_id: str
    inputs: tuple[InputPoint, ...]
    expected: tuple[ExpectedStep, ...]
    ended: EndReason
    hangup_after_s: float | None  # None: the flow hangs up and the caller waits for its BYE
    timeout_s: float

    @property
    def digits(self) -> str:
        return "".join(point.segment.keys for point in self.inputs)

    def script(self, speech: Mapping[float, Path] | None = None) -> CallerScript:
        """The ``CallerScript`` (per-key pauses from the waits); ``speech`` maps each ``~N`` length to
        the pcap spoken there."""
        pauses: list[int] = []
        audio: list[AudioCue] = []
        initial_wait = 0
        pending_wait = 0  # waits of segments without keys (no input) add up
        for point in self.inputs:
            wait = pending_wait + point.wait_ms
            key_index = len(pauses)
            if point.segment.speech_s:
                pcap = (speech or {}).get(point.segment.speech_s)
                if pcap is None:
                    raise ScenarioPathError(f"{point.node}: no speech pcap for ~{point.segment.speech_s:g}")
                audio.append(AudioCue(before_key=key_index, pcap=pcap, seconds=point.segment.speech_s))
            if not point.segment.keys:
                pending_wait = wait
                continue
            pending_wait = 0
            if key_index == 0:
                initial_wait = wait
            else:
                pauses[-1] = wait
            pauses += [0] * len(point.segment.keys)
        hangup = self.hangup_after_s
        if hangup is not None and pending_wait:
            hangup += pending_wait / 1000
        return CallerScript(
            number=self.number,
            caller_id=self.caller_id,
            digits=self.digits,
            initial_wait_ms=initial_wait,
            hangup_after_s=hangup,
            timeout_s=self.timeout_s,
            pauses_ms=tuple(pauses),
            audio=tuple(audio),
        )

    def node_path(self) -> list[str]:
        """``flow/node`` per expected step, in order."""
        return [f"{step.flow}/{step.node}" for step in self.expected]


def _media_seconds(media: Media) -> float:
    if isinstance(media, Prompt | Tts):
        text = media.text if isinstance(media, Tts) else (media.text or media.id)
        return _MEDIA_GAP_S + _WORD_S * max(1, len(text.split()))
    if isinstance(media, Say):
        return _MEDIA_GAP_S + _SAY_CHAR_S * max(1, len(media.value))
    assert isinstance(media, Silence)
    return media.seconds


@dataclass(frozen=True)
class _Request:
    position: int
    ready: datetime  # when the caller may start on this input
    events_before: int
    is_record: bool


@dataclass
class _TrackingChannel(ScriptedChannel):
    """The simulator's channel, noting where and when the flow asks for input."""

    events: MemoryNodeLog = field(default_factory=MemoryNodeLog)
    speech_at: dict[int, float] = field(default_factory=dict)
    requests: list[_Request] = field(default_factory=list)
    finished: list[datetime] = field(default_factory=list)

    def _say(self, media: Sequence[Media]) -> None:
        for item in media:
            before = self._now()
            super()._say((item,))  # the transcript entry; then the clock is set by our estimate
            self._set(before, _media_seconds(item))

    def _now(self) -> datetime:
        assert self.clock is not None
        return self.clock.now()

    def _set(self, since: datetime, seconds: float) -> None:
        assert self.clock is not None
        self.clock.advance(seconds - (self.clock.now() - since).total_seconds())

    def _note(self, is_record: bool) -> None:
        self.requests.append(_Request(self._position, self._now(), len(self.events.events), is_record))

    async def collect(
        self,
        *,
        prompt: Sequence[Media] = (),
        max_digits: int,
        terminator: DtmfKey | None = DtmfKey.POUND,
        first_timeout: float = 5.0,
        inter_timeout: float = 3.0,
    ) -> Digits:
        self._check()
        self._say(prompt)
        self._note(is_record=False)
        digits = await super().collect(
            max_digits=max_digits,
            terminator=terminator,
            first_timeout=first_timeout,
            inter_timeout=inter_timeout,
        )
        self.finished.append(self._now())
        return digits

    async def record(
        self, *, name: str, max_seconds: float, beep: bool = True, terminator: DtmfKey | None = DtmfKey.POUND,
        max_silence: float = 0.0,
    ) -> Recording:
        self._check()
        self._note(is_record=True)
        self.record_seconds = self.speech_at.get(self._position, 0.0)
        recording = await super().record(name=name, max_seconds=max_seconds, beep=beep, terminator=terminator,
                                         max_silence=max_silence)
        self.finished.append(self._now())
        return recording


def _asking_node(events: Sequence[NodeEvent], request: _Request) -> NodeEvent | None:
    """The node that asked: the first to finish after the request (events are logged as nodes end)."""
    return events[request.events_before] if request.events_before < len(events) else None


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


async def plan_scenario(
    flow: Flow,
    segments: Sequence[PathSegment],
    services: FlowServices,
    *,
    number: str,
    caller_id: str,
    start: datetime,
) -> ScenarioPlan:
    """Walk ``flow`` with ``segments`` and plan the caller; raises ScenarioPathError if they do not fit.

    ``services`` supplies lookups, prompts and sub-flows; its node log and stores are replaced so that
    planning writes nothing.
    """
    if not segments:
        raise ScenarioPathError("the path is empty: give at least one segment")
    events = MemoryNodeLog()
    starts: list[int] = []
    speech_at: dict[int, float] = {}
    script: list[DtmfKey | None] = []
    for segment in segments:
        starts.append(len(script))
        if segment.speech_s:
            speech_at[len(script)] = segment.speech_s
        script += segment.tokens
    clock = SimClock(start)
    channel = _TrackingChannel(
        script=tuple(script),
        caller_id=caller_id,
        dialled=number,
        clock=clock,
        events=events,
        speech_at=speech_at,
    )
    kept = replace(
        services, node_log=events, surveys=MemorySurveys(), voicemails=MemoryVoicemails(), clock=clock
    )
    sim = await simulate(flow, channel, kept)
    if sim.result.reason is EndReason.ERROR:
        raise ScenarioPathError(
            f"the flow fails on this path at {sim.result.flow}/{sim.result.node}: {sim.result.error}"
        )
    asked = [r for r in channel.requests if r.position < len(script)]

    def describe(request: _Request) -> str:
        event = _asking_node(events.events, request)
        return f"{event.flow}/{event.node}" if event else "?"

    if [r.position for r in asked] != starts:
        typed = " | ".join(f"{describe(r)} at key {r.position}" for r in asked)
        split = ", ".join(str(s) for s in starts)
        raise ScenarioPathError(
            f"the path does not fit the flow: segments start at keys {split}, but the flow asked for input "
            f"at: {typed or 'nowhere'} (one segment per request for input; check with `ivr simulate`)"
        )
    points: list[InputPoint] = []
    previous_end = start
    for index, (request, segment) in enumerate(zip(asked, segments, strict=True)):
        event = _asking_node(events.events, request)
        node = event.node if event else "?"
        if segment.node is not None and segment.node != node:
            raise ScenarioPathError(f"path segment {index + 1} {segment}: the node asking there is {node}")
        if segment.speech_s and not request.is_record:
            raise ScenarioPathError(f"path segment {index + 1} {segment}: {node} does not record speech")
        heard = (request.ready - previous_end).total_seconds()
        wait = heard * _RECORD_SLACK + _RECORD_MARGIN_S if request.is_record else heard + _INPUT_MARGIN_S
        points.append(InputPoint(event.flow if event else flow.name, node, segment, _ms(wait)))
        # After no input, the next wait runs from this request: it must cover the flow's timeout too.
        done = index < len(channel.finished) and not segment.no_input
        previous_end = channel.finished[index] if done else request.ready
    if sim.result.reason is EndReason.CALLER_HUNG_UP:
        final = channel.requests[-1].ready if channel.requests else previous_end
        hangup: float | None = (final - previous_end).total_seconds() + _HANGUP_MARGIN_S
    else:
        hangup = None
    total = (clock.now() - start).total_seconds() + _KEY_S * len(script)
    return ScenarioPlan(
        flow=flow.name,
        number=number,
        caller_id=caller_id,
        inputs=tuple(points),
        expected=tuple(ExpectedStep.of(e) for e in sorted(events.events, key=lambda e: e.seq)),
        ended=sim.result.reason,
        hangup_after_s=hangup,
        timeout_s=round(total * 1.5 + 30),
    )


def write_scenario(plan: ScenarioPlan, out: Path) -> list[Path]:
    """Write the scenario XML to ``out`` and its pcaps to ``<stem>-media/`` beside it (named relative to
    ``out``'s folder: run SIPp from there). Returns every file written, the scenario first."""
    media = out.parent / f"{out.stem}-media"
    media.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    speech: dict[float, Path] = {}
    for seconds in sorted({p.segment.speech_s for p in plan.inputs if p.segment.speech_s}):
        speech_file = media / f"speech_{seconds:g}s.pcap"
        speech_file.write_bytes(speech_pcap(seconds))
        written.append(speech_file)
        speech[seconds] = speech_file.relative_to(out.parent)
    script = plan.script(speech)
    pcaps: list[Path] = []
    for name, data in restamped_dtmf(script.steps()):
        (media / name).write_bytes(data)
        written.append(media / name)
        pcaps.append((media / name).relative_to(out.parent))
    out.write_text(render_caller_scenario(script, pcaps))
    return [out, *written]
