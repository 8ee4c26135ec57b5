"""What a phone sends, as pcaps for SIPp: one RTP stream per call, PCMU every 20 ms, RFC 4733 keys in it.

A phone sends audio all through a call (20 ms packets; silence when nobody speaks) and replaces it by
RFC 4733 event packets while a key is down. SIPp's DTMF pcaps alone send RTP only for keys, and
Asterisk then hears nothing from the caller between keys, which changes how it schedules work: the
Stasis loop (``res_stasis.c``) runs queued commands such as an ARI play when the channel delivers a
frame, or after waiting ``MAX_WAIT_MS`` (200 ms) for one. So the bench's callers send what a phone
does: ``phone_rtp`` builds the part of a call's stream that starts at one moment of the call (the
call's start, or a key) and lasts until the next, from the call's ``RtpClock``, so sequence numbers and
timestamps run on from one pcap to the next as one stream with one SSRC. SIPp's ``play_pcap_audio``
plays one pcap at a time per call: starting the next one cancels the one still playing, and the call's
end cancels the last, so a pcap may run longer than the pause it covers.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ivr_engine.lab.errors import SippError

__all__ = ["PACKET_MS", "PCMU_PT", "SILENT_PCMU", "RtpClock", "capture_rtp", "phone_rtp", "rtp_pcap"]

PACKET_MS = 20
"""A phone's packet time (``a=ptime:20``): 160 PCMU samples."""
SAMPLES_PER_PACKET = 160
PCMU_PT = 0
SILENT_PCMU = b"\xff" * SAMPLES_PER_PACKET
"""Mu-law 0xFF is linear 0: digital silence, inaudible by any level threshold."""

_PCAP_HEADER = 24
_RECORD_HEADER = 16
_LINK_HEADER = {1: 14, 113: 16}  # Ethernet, Linux cooked capture
_PORT = 6000  # SIPp maps the pcap's ports onto -mp and the far end's SDP port


@dataclass(frozen=True)
class RtpClock:
    """One call's RTP stream: its SSRC, and the sequence number and timestamp at call time 0."""

    ssrc: int = 0x0E05384E  # the SSRC of SIPp's DTMF captures
    first_seq: int = 1000
    first_timestamp: int = 16000

    def seq(self, slot: int) -> int:
        return (self.first_seq + slot) & 0xFFFF

    def timestamp(self, slot: int) -> int:
        return (self.first_timestamp + slot * SAMPLES_PER_PACKET) & 0xFFFFFFFF


def capture_rtp(pcap: bytes) -> list[bytes]:
    """The RTP packets (header and payload) of a capture of one RFC 4733 event, 20 ms apart, without the
    redundant repeats of its end packet (in the lab, Asterisk turned them into a second key press while
    the app played media)."""
    if len(pcap) < _PCAP_HEADER:
        raise SippError("not a pcap file: too short")
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">"}.get(pcap[:4])
    if endian is None:
        raise SippError("not a pcap file: unknown magic number")
    link_type = struct.unpack(f"{endian}I", pcap[20:24])[0]
    if link_type not in _LINK_HEADER:
        raise SippError(f"pcap link type {link_type} is not supported")
    packets: list[bytes] = []
    offset = _PCAP_HEADER
    while offset + _RECORD_HEADER <= len(pcap):
        captured = struct.unpack(f"{endian}I", pcap[offset + 8 : offset + 12])[0]
        frame = pcap[offset + _RECORD_HEADER : offset + _RECORD_HEADER + captured]
        offset += _RECORD_HEADER + captured
        ip = _LINK_HEADER[link_type]
        if frame[ip] >> 4 != 4 or frame[ip + 9] != 17:
            raise SippError("pcap holds a packet that is not IPv4/UDP")
        rtp = frame[ip + (frame[ip] & 0x0F) * 4 + 8 :]
        packets.append(rtp)
        if rtp[13] & 0x80:  # the first end packet: the event is over
            break
    return packets


def _frame(rtp: bytes, ident: int) -> bytes:
    udp = struct.pack("!HHHH", _PORT, _PORT, 8 + len(rtp), 0) + rtp  # checksum 0: none (IPv4)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xFFFF, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp  # fmt: skip
    return b"\x00" * 12 + b"\x08\x00" + ip


def rtp_pcap(packets: list[tuple[int, bytes]]) -> bytes:
    """A pcap (Ethernet, microsecond times) of ``(microseconds from the start, RTP packet)`` pairs."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for n, (micros, rtp) in enumerate(packets):
        frame = _frame(rtp, n)
        seconds, rest = divmod(micros, 1_000_000)
        out.append(struct.pack("<IIII", seconds, rest, len(frame), len(frame)) + frame)
    return b"".join(out)


def phone_rtp(clock: RtpClock, start_ms: int, length_ms: int, event: bytes | None = None) -> bytes:
    """A pcap of what the phone sends from call time ``start_ms`` for ``length_ms``: the RFC 4733 event
    captured in ``event`` (if any) from its first packet on, then PCMU silence every 20 ms.

    Packet n of the pcap goes out n * 20 ms after the pcap starts and takes the call's slot
    ``start_ms / 20 + n``: its sequence number, and its timestamp (an event's packets all carry the
    timestamp of the event's start, as RFC 4733 wants).
    """
    if start_ms % PACKET_MS or length_ms % PACKET_MS or length_ms <= 0:
        raise SippError(f"RTP from {start_ms} ms for {length_ms} ms: not whole {PACKET_MS} ms packets")
    first = start_ms // PACKET_MS
    count = length_ms // PACKET_MS
    packets: list[tuple[int, bytes]] = []
    for n, rtp in enumerate(capture_rtp(event) if event is not None else []):
        header = struct.pack("!BBHII", 0x80, rtp[1], clock.seq(first + n), clock.timestamp(first), clock.ssrc)
        packets.append((n * PACKET_MS * 1000, header + rtp[12:]))
    if len(packets) >= count:
        raise SippError(f"a key's {len(packets)} packets do not fit in {length_ms} ms")
    for n in range(len(packets), count):
        marker = 0x80 if n == 0 else 0  # the stream's start
        header = struct.pack("!BBHII", 0x80, marker | PCMU_PT, clock.seq(first + n),
                             clock.timestamp(first + n), clock.ssrc)  # fmt: skip
        packets.append((n * PACKET_MS * 1000, header + SILENT_PCMU))
    return rtp_pcap(packets)
