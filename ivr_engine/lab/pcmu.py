"""G.711 mu-law audio for the lab's callers and agent phones: samples encoded, RTP captures (pcaps) a SIPp
caller "speaks" with ``play_pcap_audio``, and .wav files an agent phone streams with ``rtp_stream``.

Captures are little-endian Ethernet pcaps of RTP (payload type 0, 20 ms packets); their addresses and
ports are placeholders that SIPp rewrites.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

__all__ = [
    "PACKET_SAMPLES",
    "SAMPLE_RATE",
    "mu_law",
    "rtp_pcap",
    "tone",
    "write_talk_audio",
    "write_tone_pcap",
]

SAMPLE_RATE = 8000
PACKET_SAMPLES = 160  # 20 ms
_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # Ethernet frames
_LOOPBACK = bytes([127, 0, 0, 1])


def mu_law(sample: int) -> int:
    """One 16-bit linear sample as a G.711 mu-law byte."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(magnitude.bit_length() - 8, 0)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def tone(seconds: float, hertz: float, amplitude: int = 12000) -> bytes:
    """A sine tone, mu-law encoded."""
    count = round(seconds * SAMPLE_RATE)
    step = 2 * math.pi * hertz / SAMPLE_RATE
    return bytes(mu_law(round(amplitude * math.sin(step * i))) for i in range(count))


def _frame(payload: bytes, seq: int, timestamp: int, ssrc: int, *, marker: bool) -> bytes:
    rtp = struct.pack("!BBHII", 0x80, 0x80 if marker else 0, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc)
    udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp) + len(payload), 0) + rtp + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, _LOOPBACK, _LOOPBACK)
    return bytes(12) + b"\x08\x00" + ip + udp  # Ethernet II, IPv4


def rtp_pcap(audio: bytes, *, ssrc: int, first_seq: int, first_timestamp: int = 0,
             marker_first: bool = False) -> bytes:
    """``audio`` (mu-law) as RTP packets 20 ms apart in a pcap; a short last packet is padded with
    mu-law silence."""
    out = bytearray(_PCAP_HEADER)
    for index, start in enumerate(range(0, len(audio), PACKET_SAMPLES)):
        payload = audio[start : start + PACKET_SAMPLES].ljust(PACKET_SAMPLES, b"\xff")
        frame = _frame(payload, first_seq + index, first_timestamp + start, ssrc,
                       marker=marker_first and index == 0)  # fmt: skip
        seconds, micros = divmod(index * 20_000, 1_000_000)
        out += struct.pack("<IIII", seconds, micros, len(frame), len(frame)) + frame
    return bytes(out)


def write_tone_pcap(path: Path, seconds: float = 3.0, hertz: float = 660.0) -> Path:
    """Write a pcap of a PCMU tone as RTP (20 ms packets) for a caller's voice (``AudioCue``)."""
    path.write_bytes(rtp_pcap(tone(seconds, hertz), ssrc=0x1D0E5EED, first_seq=2000, marker_first=True))
    return path


def write_talk_audio(path: Path, seconds: float = 4.0, hertz: float = 440.0) -> Path:
    """Write a PCMU .wav tone (8 kHz mono) for an agent phone's voice (SIPp ``rtp_stream``)."""
    path.write_bytes(_wav(tone(seconds, hertz)))
    return path


def _wav(data: bytes) -> bytes:
    fmt = struct.pack("<HHIIHH", 7, 1, SAMPLE_RATE, SAMPLE_RATE, 1, 8)  # format 7 = mu-law, 8 bits a sample
    return (
        b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    )  # fmt: skip
