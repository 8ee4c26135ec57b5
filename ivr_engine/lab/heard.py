"""Judge what a live caller heard (``rtp_ear.Heard``): silences nobody planned, and slow answers.

A packet is audible when its RMS reaches ``AUDIBLE_RMS`` (about -44 dBFS). A silence is the time
between two audible packets. Part of it is planned when the caller had the turn: while the call was in
a node that waits for the caller or for a person (``WAITING_TYPES``: menu, gather, record, survey,
transfer; their spans come from the node log). What is left over must not pass ``MAX_SILENCE_S``.
After each input (the key that completes what the flow asked for), the caller must hear audio within
``MAX_ANSWER_S`` of pressing it: the first audible packet after the key's RFC 4733 event ended counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from ivr_engine.lab.rtp_ear import AUDIBLE_RMS, Heard

__all__ = [
    "AUDIBLE_RMS",
    "MAX_ANSWER_S",
    "MAX_SILENCE_S",
    "WAITING_TYPES",
    "HeardCheck",
    "SlowAnswer",
    "UnplannedSilence",
    "Window",
    "check_heard",
]

MAX_SILENCE_S = 2.0
MAX_ANSWER_S = 1.0
KEY_EVENT_S = 0.14  # the DTMF pcaps' event lasts this long
_PACKET_S = 0.02
WAITING_TYPES = frozenset({"menu", "gather", "record", "survey", "transfer"})


@dataclass(frozen=True)
class Window:
    """A span of wall time (``time.time()`` seconds)."""

    start: float
    end: float


@dataclass(frozen=True)
class UnplannedSilence:
    at_s: float  # seconds after the first audio
    seconds: float  # the whole silence
    unplanned_s: float  # the part outside the planned windows


@dataclass(frozen=True)
class SlowAnswer:
    key: str
    at_s: float  # when the key was pressed, seconds after the first audio
    seconds: float | None  # until audio was heard; None: never


@dataclass(frozen=True)
class HeardCheck:
    audio_s: float  # seconds of audible audio received
    silences: tuple[UnplannedSilence, ...]
    slow: tuple[SlowAnswer, ...]
    answers: tuple[float, ...]  # every answer's delay, for the report

    @property
    def passed(self) -> bool:
        return self.audio_s > 0 and not self.silences and not self.slow

    def problems(self) -> list[str]:
        found = [] if self.audio_s > 0 else ["the caller heard nothing audible"]
        found += [
            f"{s.seconds:.1f} s of silence at {s.at_s:.1f} s ({s.unplanned_s:.1f} s while the caller "
            f"waited for the flow; at most {MAX_SILENCE_S:g} s)"
            for s in self.silences
        ]
        found += [
            f"key {a.key} at {a.at_s:.1f} s: "
            + ("no audio after it" if a.seconds is None else f"audio only {a.seconds:.2f} s later")
            + f" (at most {MAX_ANSWER_S:g} s)"
            for a in self.slow
        ]
        return found


def _overlap(start: float, end: float, windows: Sequence[Window]) -> float:
    """Seconds of [start, end] covered by the union of ``windows``."""
    covered = 0.0
    cursor = start
    for window in sorted(windows, key=lambda w: w.start):
        lo, hi = max(cursor, window.start), min(end, window.end)
        if hi > lo:
            covered += hi - lo
            cursor = hi
    return covered


def check_heard(heard: Heard, answer_keys: Sequence[int], planned: Sequence[Window]) -> HeardCheck:
    """Judge ``heard``; ``answer_keys`` are the indices (into ``heard.keys``) of keys that complete an
    input, ``planned`` the spans when silence is the caller's turn."""
    audible = sorted(p.at for p in heard.packets if p.rms >= AUDIBLE_RMS)
    origin = heard.first_audio or (audible[0] if audible else 0.0)
    silences: list[UnplannedSilence] = []
    for before, after in itertools.pairwise(audible):
        gap = after - before - _PACKET_S
        if gap <= MAX_SILENCE_S:
            continue
        unplanned = gap - _overlap(before + _PACKET_S, after, planned)
        if unplanned > MAX_SILENCE_S:
            silences.append(UnplannedSilence(round(before - origin, 2), round(gap, 2), round(unplanned, 2)))
    slow: list[SlowAnswer] = []
    answers: list[float] = []
    for index in answer_keys:
        if index >= len(heard.keys):
            continue  # the call ended before this key went out: the node path shows it
        pressed, key = heard.keys[index]
        later = next((t for t in audible if t >= pressed + KEY_EVENT_S), None)
        delay = None if later is None else later - pressed
        if delay is not None:
            answers.append(round(delay, 3))
        if delay is None or delay > MAX_ANSWER_S:
            shown = None if delay is None else round(delay, 3)
            slow.append(SlowAnswer(key, round(pressed - origin, 2), shown))
    return HeardCheck(round(len(audible) * _PACKET_S, 2), tuple(silences), tuple(slow), tuple(answers))
