"""A pcap of RTP audio a SIPp caller can "speak" with ``play_pcap_audio`` (e.g. into a voicemail).

SIPp cannot synthesise audio, and its shipped pcaps are G.711 A-law, which the lab's callers do not
offer. ``speech_pcap`` builds G.711 mu-law (payload type 0, 20 ms packets) of a voice-like signal: a
120 Hz fundamental with falling harmonics, shaped into syllables of about 4 per second, so a recording
of it is plainly not silence. Addresses and ports in the capture are placeholders: SIPp rewrites them.
"""

from __future__ import annotations

import math

from ivr_engine.lab.pcmu import SAMPLE_RATE, mu_law, rtp_pcap

__all__ = ["speech_pcap", "speech_samples"]

_SSRC = 0x5EEC4A11
_FIRST_SEQ = 20000  # clear of the restamped DTMF presses (1000 + 100 per key)
_FIRST_TIMESTAMP = 0x01000000


def speech_samples(seconds: float) -> list[int]:
    """Linear 16-bit samples of the voice-like signal, ``seconds`` long."""
    samples: list[int] = []
    for i in range(round(seconds * SAMPLE_RATE)):
        t = i / SAMPLE_RATE
        syllable = 0.55 + 0.45 * math.sin(2 * math.pi * 4 * t)  # never fully silent
        voice = sum(math.sin(2 * math.pi * 120 * h * t) / h for h in range(1, 8))
        samples.append(round(6000 * syllable * voice))
    return samples


def speech_pcap(seconds: float) -> bytes:
    """A little-endian Ethernet pcap holding ``seconds`` of mu-law speech-like RTP, 20 ms apart."""
    if not 0 < seconds <= 600:
        raise ValueError(f"speech length {seconds} s: must be between 0 and 600 s")
    encoded = bytes(mu_law(s) for s in speech_samples(seconds))
    return rtp_pcap(encoded, ssrc=_SSRC, first_seq=_FIRST_SEQ, first_timestamp=_FIRST_TIMESTAMP)
