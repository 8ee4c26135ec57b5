"""Key -> answer heard, as the caller hears it (pure): RTP packets in, latency samples out.

The bench sees every RTP packet between the SIPp callers and Asterisk (``ivr_engine.bench.sniff``).
Per Asterisk RTP port (one per live call) it follows two directions:

- a **key** is the first RFC 4733 packet of a new event the caller sends (a new RTP timestamp, or the
  first event packet after a second without any);
- **audible** is a PCMU packet from Asterisk with at least ``LOUD_SAMPLES`` samples at or above
  ``LOUD_LEVEL`` (about -30 dBFS); Asterisk sends nothing (or digital silence) between prompts.

A sample is the time from a key sent on a **quiet line** (nothing audible for ``QUIET_S`` before it) to
the next audible packet: the answer the caller hears (the next prompt or a read-out). Keys pressed while
a prompt plays (barge-in) are counted but are no samples, since the prompt still heard after the key is
not the answer. Later keys replace an unanswered one (only the last key of an entry is answered); an
answer later than ``MAX_ANSWER_S``, none before the call ends, or none before a key more than
``ENTRY_GAP_S`` later, is counted as unanswered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "LOUD_LEVEL",
    "LOUD_SAMPLES",
    "MAX_ANSWER_S",
    "QUIET_S",
    "HeardCounts",
    "HeardMeter",
    "is_audible",
    "mu_law_magnitude",
]

LOUD_LEVEL = 1000
"""A sample this loud (of 32767, about -30 dBFS) or louder is speech, not noise or silence."""
LOUD_SAMPLES = 8
"""Loud samples (of 160 in a 20 ms packet) that make a packet audible."""
QUIET_S = 0.3
"""A key is timed only if nothing was audible this long before it."""
MAX_ANSWER_S = 15.0
"""Longer than this is no answer to the key (a lost key); shorter waits all count, however long: a slow
answer is what the tail is about. (The mix waits at least 12.5 s after each answered key.)"""
ENTRY_GAP_S = 2.0
"""A key replacing an unanswered one sent longer ago than this leaves that one unanswered (an entry's
digits come well within it)."""
NEW_KEY_GAP_S = 1.0
"""Event packets this far apart are two keys even with the same RTP timestamp (a port reused)."""


def mu_law_magnitude(byte: int) -> int:
    """The absolute 16-bit linear value of one G.711 mu-law byte."""
    value = ~byte & 0xFF
    exponent = (value >> 4) & 0x07
    mantissa = value & 0x0F
    return (((mantissa << 3) + 0x84) << exponent) - 0x84


_LOUD = bytes(1 if mu_law_magnitude(b) >= LOUD_LEVEL else 0 for b in range(256))


def is_audible(payload: bytes) -> bool:
    """Whether a PCMU payload holds speech (enough loud samples)."""
    return payload.translate(_LOUD).count(1) >= LOUD_SAMPLES


@dataclass
class _Line:
    last_audible: float = -math.inf
    last_event_ts: int | None = None
    last_event_at: float = -math.inf
    pending: float | None = None


@dataclass(frozen=True)
class HeardCounts:
    keys: int
    quiet_keys: int
    unanswered: int


@dataclass
class HeardMeter:
    """Feed it packets in arrival order; ``samples_ms`` grows with each answered quiet key."""

    samples_ms: list[float] = field(default_factory=list)
    keys: int = 0
    quiet_keys: int = 0
    unanswered: int = 0
    _lines: dict[int, _Line] = field(default_factory=dict)

    def key_packet(self, asterisk_port: int, at: float, rtp_timestamp: int) -> None:
        """An RFC 4733 packet the caller sent to ``asterisk_port`` at ``at`` seconds."""
        line = self._lines.setdefault(asterisk_port, _Line())
        same_event = rtp_timestamp == line.last_event_ts and at - line.last_event_at < NEW_KEY_GAP_S
        line.last_event_ts, line.last_event_at = rtp_timestamp, at
        if same_event:
            return
        self.keys += 1
        if line.pending is not None and at - line.pending > ENTRY_GAP_S:
            self.unanswered += 1  # not an entry's next digit: the caller gave up waiting for an answer
        if at - line.last_audible >= QUIET_S:
            self.quiet_keys += 1
            line.pending = at
        else:
            line.pending = None

    def audio_packet(self, asterisk_port: int, at: float, payload: bytes) -> None:
        """A PCMU packet Asterisk sent from ``asterisk_port`` at ``at`` seconds."""
        if not is_audible(payload):
            return
        line = self._lines.setdefault(asterisk_port, _Line())
        line.last_audible = at
        if line.pending is None:
            return
        waited = at - line.pending
        line.pending = None
        if waited <= MAX_ANSWER_S:
            self.samples_ms.append(round(waited * 1000, 3))
        else:
            self.unanswered += 1

    def counts(self) -> HeardCounts:
        """Keys seen, keys on a quiet line, and last keys without an answer (in time or at all)."""
        still = sum(1 for line in self._lines.values() if line.pending is not None)
        return HeardCounts(self.keys, self.quiet_keys, self.unanswered + still)
