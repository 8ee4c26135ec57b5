"""Walk a flow without a phone: a ``Channel`` driven by a digit script, and a settable clock.

Script syntax (``ivr simulate --digits``): DTMF keys ``0-9 * # A-D`` are pressed in order; ``T`` means
"the caller presses nothing here" (the next collect times out); spaces are ignored. When the script
is used up, the simulated caller hangs up at the next request for input. ``--timeout-at N`` inserts a
``T`` before the N-th key (0-based), e.g. ``--digits 12 --timeout-at 1`` = ``1T2``.

The channel keeps a transcript (what was said, what was pressed) and advances a ``SimClock`` by
plausible durations, so timings in the node log look like a real call's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from ivr_engine.channel import (
    CallerHungUp,
    Channel,
    Digits,
    DtmfKey,
    Media,
    Prompt,
    Recording,
    Say,
    Silence,
    Tts,
)
from ivr_engine.flow.interpreter import MASK, FlowResult, run_flow
from ivr_engine.flow.model import Flow
from ivr_engine.flow.ports import NodeEntry, NodeEvent, NodeEventSink, TransferOutcome, TransferRequest
from ivr_engine.flow.services import FlowServices
from ivr_engine.prompts.spoken import spoken_text

__all__ = [
    "TIMEOUT_TOKEN",
    "Entry",
    "EntryKind",
    "FixedTransferrer",
    "ScriptedChannel",
    "SimClock",
    "SimulatedStep",
    "Simulation",
    "parse_script",
    "simulate",
]

TIMEOUT_TOKEN = "T"
_KEY_SECONDS = 0.4
_WORD_SECONDS = 0.35


def parse_script(text: str, timeout_at: Iterable[int] = ()) -> tuple[DtmfKey | None, ...]:
    """Keys and timeouts (``None``) from a script; raises ValueError naming a bad character."""
    tokens: list[DtmfKey | None] = []
    for ch in text:
        if ch.isspace():
            continue
        if ch.upper() == TIMEOUT_TOKEN:
            tokens.append(None)
            continue
        try:
            tokens.append(DtmfKey(ch.upper()))
        except ValueError:
            raise ValueError(f"not a key or T: {ch!r} in {text!r} (allowed: 0-9 * # A-D T)") from None
    key_positions = [i for i, token in enumerate(tokens) if token is not None]
    for position in sorted(set(timeout_at), reverse=True):
        if not 0 <= position <= len(key_positions):
            raise ValueError(f"--timeout-at {position}: the script has {len(key_positions)} keys")
        index = key_positions[position] if position < len(key_positions) else len(tokens)
        tokens.insert(index, None)
    return tuple(tokens)


@dataclass(frozen=True)
class FixedTransferrer:
    """The simulated ACD: every transfer ends with the one outcome given."""

    outcome: TransferOutcome

    async def transfer(self, channel: object, request: TransferRequest) -> TransferOutcome:
        return self.outcome

    def agent_of(self, call_id: str) -> str | None:
        return "sim-agent" if self.outcome is TransferOutcome.COMPLETED else None


class SimClock:
    """A clock that only moves when told to (the simulator advances it)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        if self._now.tzinfo is None:
            raise ValueError("SimClock needs a timezone-aware start time")

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


class EntryKind(StrEnum):
    SAID = "said"
    PRESSED = "pressed"
    TIMEOUT = "timeout"
    RECORDED = "recorded"
    HANGUP = "hangup"


@dataclass(frozen=True)
class Entry:
    kind: EntryKind
    text: str


def _spoken(media: Media) -> str:
    if isinstance(media, Prompt):
        return media.text or f"[prompt {media.id}]"
    if isinstance(media, Say):
        try:
            text = spoken_text(media.kind, media.value, media.lang)
        except ValueError:
            text = None
        return f"[{media.kind.value}] {media.value}" if text is None else text
    if isinstance(media, Tts):
        return media.text
    assert isinstance(media, Silence)
    return f"[silence {media.seconds:g}s]"


@dataclass
class ScriptedChannel:
    """A ``Channel`` whose caller presses the keys of a script and hears into a transcript."""

    script: Sequence[DtmfKey | None]
    caller_id: str = "15550000000"
    dialled: str = "100"
    id: str = "sim-1"
    clock: SimClock | None = None
    record_seconds: float = 4.0
    transcript: list[Entry] = field(default_factory=list)
    answered: bool = False
    hung_up: bool = False
    _position: int = 0

    def _check(self) -> None:
        if self.hung_up:
            raise CallerHungUp(self.id)

    def _advance(self, seconds: float) -> None:
        if self.clock is not None:
            self.clock.advance(seconds)

    def _say(self, media: Sequence[Media]) -> None:
        for item in media:
            text = _spoken(item)
            self.transcript.append(Entry(EntryKind.SAID, text))
            self._advance(max(0.5, _WORD_SECONDS * len(text.split())))

    def _peek(self) -> DtmfKey | None:
        return self.script[self._position] if self._position < len(self.script) else None

    def _exhausted(self) -> bool:
        return self._position >= len(self.script)

    def _caller_leaves(self) -> CallerHungUp:
        self.hung_up = True
        self.transcript.append(Entry(EntryKind.HANGUP, "caller hung up (end of script)"))
        return CallerHungUp(self.id)

    async def answer(self) -> None:
        self._check()
        self.answered = True

    async def play(self, media: Sequence[Media], *, barge_in: bool = False) -> DtmfKey | None:
        self._check()
        key = self._peek()
        if barge_in and key is not None:
            self.transcript.append(
                Entry(EntryKind.SAID, f"(barge-in: {_spoken(media[0]) if media else ''} ...)")
            )
            return key
        self._say(media)
        return None

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
        if self._exhausted():
            self._say(prompt)
            raise self._caller_leaves()
        self._say(prompt)
        keys: list[DtmfKey] = []
        while True:
            if self._exhausted():
                if not keys:
                    raise self._caller_leaves()
                self._timeout(inter_timeout)
                return Digits(tuple(keys), timed_out=True)
            token = self.script[self._position]
            self._position += 1
            if token is None:
                self._timeout(inter_timeout if keys else first_timeout)
                return Digits(tuple(keys), timed_out=True)
            self._advance(_KEY_SECONDS)
            if terminator is not None and token is terminator:
                self._pressed(keys, token)
                return Digits(tuple(keys), terminated=True)
            keys.append(token)
            if len(keys) >= max_digits:
                self._pressed(keys, None)
                return Digits(tuple(keys))

    def _pressed(self, keys: list[DtmfKey], terminator: DtmfKey | None) -> None:
        text = "".join(k.value for k in keys) + (terminator.value if terminator is not None else "")
        self.transcript.append(Entry(EntryKind.PRESSED, text))

    def _timeout(self, seconds: float) -> None:
        self._advance(seconds)
        self.transcript.append(Entry(EntryKind.TIMEOUT, f"no input for {seconds:g}s"))

    async def record(
        self, *, name: str, max_seconds: float, beep: bool = True, terminator: DtmfKey | None = DtmfKey.POUND,
        max_silence: float = 0.0,
    ) -> Recording:
        """The caller speaks ``record_seconds`` (then presses the terminator if it comes next); a silent
        caller is recorded until ``max_silence`` (if set) or ``max_seconds``."""
        self._check()
        if beep:
            self.transcript.append(Entry(EntryKind.SAID, "[beep]"))
        speech = min(self.record_seconds, max_seconds)
        silent_for = min(max_silence, max_seconds) if max_silence > 0 and speech <= 0 else 0.0
        self._advance(speech + silent_for)
        ended_by: DtmfKey | None = None
        if terminator is not None and not silent_for and self._peek() is terminator:
            self._position += 1
            ended_by = terminator
        said = f"{speech:g}s of speech" if speech > 0 else f"silence for {silent_for:g}s"
        self.transcript.append(Entry(EntryKind.RECORDED, said))
        return Recording(name=name, path=f"sim://{name}", duration=speech + silent_for,
                         terminated_by=ended_by, talking=speech if max_silence > 0 else None)

    async def discard(self, recording: Recording) -> None:
        self.transcript.append(Entry(EntryKind.RECORDED, "[recording discarded]"))

    async def hangup(self) -> None:
        if not self.hung_up:
            self.hung_up = True
            self.transcript.append(Entry(EntryKind.HANGUP, "the flow hung up"))


@dataclass(frozen=True)
class SimulatedStep:
    """One node of a simulated call and what the caller heard and did while in it."""

    event: NodeEvent
    transcript: tuple[Entry, ...]


@dataclass(frozen=True)
class Simulation:
    result: FlowResult
    steps: tuple[SimulatedStep, ...]
    transcript: tuple[Entry, ...]


class _TeeSink:
    """Passes events on to the real node log and keeps them, with the transcript heard so far."""

    def __init__(self, inner: NodeEventSink, channel: ScriptedChannel) -> None:
        self.inner = inner
        self.channel = channel
        self.steps: list[SimulatedStep] = []
        self._mark = 0

    def entered(self, entry: NodeEntry) -> None:
        self.inner.entered(entry)

    def record(self, event: NodeEvent) -> None:
        self.inner.record(event)
        transcript = self.channel.transcript
        if event.input == MASK:  # a sensitive gather: the keys pressed are masked here too
            for index in range(self._mark, len(transcript)):
                if transcript[index].kind is EntryKind.PRESSED:
                    transcript[index] = Entry(EntryKind.PRESSED, MASK)
        heard = tuple(transcript[self._mark :])
        self._mark = len(self.channel.transcript)
        self.steps.append(SimulatedStep(event, heard))

    async def flush(self, *, urgent: bool = True) -> None:
        await self.inner.flush(urgent=urgent)


async def simulate(
    flow: Flow, channel: ScriptedChannel, services: FlowServices, *, call_id: str | None = None
) -> Simulation:
    """Run ``flow`` through the real interpreter on a scripted channel, keeping a per-node transcript."""
    tee = _TeeSink(services.node_log, channel)
    scripted: Channel = channel
    result = await run_flow(flow, scripted, replace(services, node_log=tee), call_id=call_id or channel.id)
    steps = sorted(tee.steps, key=lambda step: step.event.seq)
    return Simulation(result, tuple(steps), tuple(channel.transcript))
