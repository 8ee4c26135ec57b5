"""The capture socket of ``ivr bench`` on the real loopback device (needs root, as the bench does)."""

from __future__ import annotations

import socket
import struct

from ivr_engine.bench.heard import HeardMeter
from ivr_engine.bench.sniff import RtpSniffer

LOUD = bytes([0x00]) * 160  # mu-law 0x00: the loudest negative sample


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_stop_reads_every_packet_still_queued() -> None:
    """A saturated machine leaves packets queued when the load ends: stopping reads them all first."""
    media_port = _free_udp_port()
    meter = HeardMeter()
    sniffer = RtpSniffer(media_port, meter)
    sniffer.start()
    sent = 3000
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as asterisk:
        asterisk.bind(("127.0.0.1", 0))
        for n in range(sent):  # PCMU from "Asterisk" to the callers' media port, as fast as it goes
            header = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, n * 160, 0x1234)
            asterisk.sendto(header + LOUD, ("127.0.0.1", media_port))
    stats = sniffer.stop()  # at once: most packets are still in the socket's queue
    assert stats.dropped == 0
    assert stats.packets == sent
