"""The small channel protocol the flow interpreter talks to.

The interpreter never sees HTTP or ARI: it plays media, collects DTMF, records and hangs up through a
``Channel``. The ARI adapter (``ivr_engine.ari.channel``) implements it for live calls, the simulator
(``ivr_engine.flow.simulator``) for scripted digits. Every operation raises ``CallerHungUp`` once the
caller has gone, so a flow step never has to poll for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

__all__ = [
    "CallerHungUp",
    "Channel",
    "ChannelError",
    "Digits",
    "DtmfKey",
    "Media",
    "Prompt",
    "Recording",
    "Say",
    "SayKind",
    "Silence",
    "Tts",
]


class DtmfKey(StrEnum):
    """One RFC 4733 DTMF key."""

    ZERO = "0"
    ONE = "1"
    TWO = "2"
    THREE = "3"
    FOUR = "4"
    FIVE = "5"
    SIX = "6"
    SEVEN = "7"
    EIGHT = "8"
    NINE = "9"
    STAR = "*"
    POUND = "#"
    A = "A"
    B = "B"
    C = "C"
    D = "D"

    @classmethod
    def parse(cls, text: str) -> tuple[DtmfKey, ...]:
        """Keys from a string such as ``"100200#"``; raises ValueError on anything else."""
        try:
            return tuple(cls(ch.upper()) for ch in text)
        except ValueError:
            raise ValueError(f"not DTMF keys: {text!r} (allowed: 0-9 * # A-D)") from None


class SayKind(StrEnum):
    NUMBER = "number"
    DIGITS = "digits"
    MONEY = "money"
    DATE = "date"
    CHARACTERS = "characters"


@dataclass(frozen=True)
class Prompt:
    """A catalogue prompt (``sounds/<lang>/<id>.wav``); ``text`` is what it says (logs, simulator);
    ``lang`` the caller's language ("" = the service's)."""

    id: str
    text: str = ""
    lang: str = ""


@dataclass(frozen=True)
class Say:
    """A value spoken the way of ``lang`` ("" = the service's): Asterisk's own number/digit sounds, or
    text-to-speech for a language without them (``value`` is already a string)."""

    kind: SayKind
    value: str
    lang: str = ""


@dataclass(frozen=True)
class Tts:
    """Text rendered at run time (templated prompts); synthesised and cached by the media resolver in
    ``lang`` ("" = the service's language)."""

    text: str
    lang: str = ""


@dataclass(frozen=True)
class Silence:
    seconds: float


Media = Prompt | Say | Tts | Silence


@dataclass(frozen=True)
class Digits:
    """What ``collect`` heard: the keys (terminator excluded) and how collection ended."""

    keys: tuple[DtmfKey, ...]
    terminated: bool = False
    timed_out: bool = False

    @property
    def text(self) -> str:
        return "".join(k.value for k in self.keys)


@dataclass(frozen=True)
class Recording:
    """A finished recording: where it is, how long, and whether it holds anything."""

    name: str
    path: str
    duration: float
    terminated_by: DtmfKey | None = None
    talking: float | None = None
    """Seconds of speech in it, when the recording listened for silence (``max_silence``); else None."""


class ChannelError(Exception):
    """The channel could not do what was asked (media missing, telephony error)."""


class CallerHungUp(Exception):
    """The caller is gone; raised by every channel operation from then on."""


@runtime_checkable
class Channel(Protocol):
    """One caller's leg, as the interpreter sees it."""

    @property
    def id(self) -> str: ...

    @property
    def caller_id(self) -> str: ...

    @property
    def dialled(self) -> str: ...

    async def answer(self) -> None: ...

    async def play(self, media: Sequence[Media], *, barge_in: bool = False) -> DtmfKey | None:
        """Play ``media`` in order and wait for the end. With ``barge_in`` the first key stops
        playback and is returned (it is also kept for the next ``collect``)."""
        ...

    async def collect(
        self,
        *,
        prompt: Sequence[Media] = (),
        max_digits: int,
        terminator: DtmfKey | None = DtmfKey.POUND,
        first_timeout: float = 5.0,
        inter_timeout: float = 3.0,
    ) -> Digits:
        """Play ``prompt`` (a key stops it and counts) then gather keys until ``max_digits``,
        ``terminator``, or a timeout; keys pressed before the call are not lost."""
        ...

    async def record(
        self, *, name: str, max_seconds: float, beep: bool = True, terminator: DtmfKey | None = DtmfKey.POUND,
        max_silence: float = 0.0,
    ) -> Recording:
        """Record the caller until ``terminator``, ``max_seconds``, a hang-up or (when above 0)
        ``max_silence`` seconds of silence."""
        ...

    async def discard(self, recording: Recording) -> None:
        """Delete a recording that is not kept (e.g. a silent voicemail)."""
        ...

    async def hangup(self) -> None: ...
