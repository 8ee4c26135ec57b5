"""A pcap of RTP audio a SIPp caller can "speak" with ``play_pcap_audio`` (e.g. into a voicemail).

SIPp cannot synthesise audio, and its shipped pcaps are G.711 A-law, which the lab's callers do not
offer. ``speech_pcap`` builds G.711 mu-law (payload type 0, 20 ms packets) of a voice-like signal: a
120 Hz fundamental with falling harmonics, shaped into syllables of about 4 per second, so a recording
of it is plainly not silence. Addresses and ports in the capture are placeholders: SIPp rewrites them.
"""

from __future__ import annotations

import math
import struct

__all__ = ["SAMPLE_RATE", "mu_law", "speech_pcap", "speech_samples"]

SAMPLE_RATE = 8000
_PACKET_SAMPLES = 160  # 20 ms
_SSRC = 0x5EEC4A11
_FIRST_SEQ = 20000  # clear of the restamped DTMF presses (1000 + 100 per key)
_FIRST_TIMESTAMP = 0x01000000


def mu_law(sample: int) -> int:
    """One 16-bit linear sample as a G.711 mu-law byte."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(magnitude.bit_length() - 8, 0)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def speech_samples(seconds: float) -> list[int]:
    """Linear 16-bit samples of the voice-like signal, ``seconds`` long."""
    samples: list[int] = []
    for i in range(round(seconds * SAMPLE_RATE)):
        t = i / SAMPLE_RATE
        syllable = 0.55 + 0.45 * math.sin(2 * math.pi * 4 * t)  # never fully silent
        voice = sum(math.sin(2 * math.pi * 120 * h * t) / h for h in range(1, 8))
        samples.append(round(6000 * syllable * voice))
    return samples


def _frame(payload: bytes, seq: int, timestamp: int) -> bytes:
    rtp = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, timestamp & 0xFFFFFFFF, _SSRC) + payload
    udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
    ip = (
        struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0)
        + bytes([127, 0, 0, 1])
        + bytes([127, 0, 0, 1])
    )
    return bytes(12) + b"\x08\x00" + ip + udp  # Ethernet II, IPv4


def speech_pcap(seconds: float) -> bytes:
    """A little-endian Ethernet pcap holding ``seconds`` of mu-law speech-like RTP, 20 ms apart."""
    if not 0 < seconds <= 600:
        raise ValueError(f"speech length {seconds} s: must be between 0 and 600 s")
    encoded = bytes(mu_law(s) for s in speech_samples(seconds))
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for index, start in enumerate(range(0, len(encoded), _PACKET_SAMPLES)):
        payload = encoded[start : start + _PACKET_SAMPLES].ljust(_PACKET_SAMPLES, b"\xff")
        frame = _frame(payload, _FIRST_SEQ + index, _FIRST_TIMESTAMP + start)
        micros = index * 20_000
        out += struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(frame), len(frame)) + frame
    return bytes(out)
