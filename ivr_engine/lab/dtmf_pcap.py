"""Make SIPp's RFC 4733 DTMF pcaps replayable more than once in one call.

SIPp's ``play_pcap_audio`` sends the captured RTP unchanged, so pressing the same key twice repeats the
same RTP sequence numbers and timestamp, and Asterisk drops the second press as a duplicate of the first.
Each capture also has its own sequence and timestamp base, so played one after another they go backwards
or overlap the previous event's duration, and Asterisk drops or doubles digits. ``restamp_rtp`` rewrites
a copy so that the presses of one call form one increasing RTP stream. It also keeps only the first of
the capture's three redundant end packets: in the lab, Asterisk turned the repeats into a second key
press whenever the app was playing media (loopback loses nothing, so the redundancy buys nothing).
"""

from __future__ import annotations

import struct

from ivr_engine.lab.errors import SippError

__all__ = ["restamp_rtp"]

_PCAP_HEADER = 24
_RECORD_HEADER = 16
_LINK_HEADER = {1: 14, 113: 16}  # Ethernet, Linux cooked capture
_UDP_HEADER = 8


def restamp_rtp(pcap: bytes, first_seq: int, timestamp: int) -> bytes:
    """Return ``pcap`` renumbered from ``first_seq``, its event starting at RTP time ``timestamp``.

    UDP checksums are zeroed ("none", valid for IPv4), as SIPp rewrites the addresses anyway.
    """
    if len(pcap) < _PCAP_HEADER:
        raise SippError("not a pcap file: too short")
    magic = pcap[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        endian = "<"
    elif magic == b"\xa1\xb2\xc3\xd4":
        endian = ">"
    else:
        raise SippError("not a pcap file: unknown magic number")
    link_type = struct.unpack(f"{endian}I", pcap[20:24])[0]
    if link_type not in _LINK_HEADER:
        raise SippError(f"pcap link type {link_type} is not supported")
    out = bytearray(pcap[:_PCAP_HEADER])
    offset = _PCAP_HEADER
    next_seq = first_seq
    base_ts: int | None = None
    ended = False
    while offset + _RECORD_HEADER <= len(pcap):
        captured = struct.unpack(f"{endian}I", pcap[offset + 8 : offset + 12])[0]
        frame = offset + _RECORD_HEADER
        record = bytearray(pcap[offset : frame + captured])
        offset = frame + captured
        ip = _RECORD_HEADER + _LINK_HEADER[link_type]
        if record[ip] >> 4 != 4 or record[ip + 9] != 17:
            raise SippError("pcap holds a packet that is not IPv4/UDP")
        udp = ip + (record[ip] & 0x0F) * 4
        rtp = udp + _UDP_HEADER
        is_end = bool(record[rtp + 13] & 0x80)
        if is_end and ended:
            continue
        ended = ended or is_end
        original_ts = struct.unpack("!I", record[rtp + 4 : rtp + 8])[0]
        base_ts = original_ts if base_ts is None else base_ts
        new_ts = (timestamp + original_ts - base_ts) & 0xFFFFFFFF
        struct.pack_into("!HI", record, rtp + 2, next_seq & 0xFFFF, new_ts)
        struct.pack_into("!H", record, udp + 6, 0)
        next_seq += 1
        out += record
    return bytes(out)
