"""The caller's ear: every RTP packet to and from the SIPp callers' media port, fed to a ``HeardMeter``.

SIPp sends all its calls' RTP (silence and keys, as phones do) from its one media port (``-mp``), and
Asterisk, with ``rtp_symmetric``, sends each call's audio back to it. A packet socket on the loopback
device with a kernel BPF filter (UDP to that port, and the RFC 4733 packets from it) sees both
directions with kernel receive timestamps, so the figures do not depend on how fast this thread reads.
Needs CAP_NET_RAW (root in the lab). Runs in its own thread: the bench's event loop never blocks on it.
"""

from __future__ import annotations

import ctypes
import socket
import struct
import threading
from dataclasses import dataclass

from ivr_engine.bench.errors import BenchError
from ivr_engine.bench.heard import HeardMeter

__all__ = ["TELEPHONE_EVENT_PT", "RtpSniffer", "SniffStats", "udp_port_filter"]

TELEPHONE_EVENT_PT = 101  # the caller mix's SDP: a=rtpmap:101 telephone-event/8000
_PCMU_PT = 0
_ETH_P_IP = 0x0800
_SO_ATTACH_FILTER = 26
_SO_TIMESTAMPNS = 35
_SO_RCVBUFFORCE = 33
_SOL_PACKET = 263
_PACKET_STATISTICS = 6
_ETH_HEADER = 14


def udp_port_filter(port: int) -> bytes:
    """A classic BPF program: IPv4 UDP, unfragmented, to ``port``, or from it with RTP payload type
    ``TELEPHONE_EVENT_PT`` (a key); everything else is dropped in the kernel, the callers' own audio
    (50 packets a second per call, like a phone's) included."""
    program = [
        (0x28, 0, 0, 12),  # ldh [12]              ethertype
        (0x15, 0, 13, _ETH_P_IP),  # jne IPv4 -> drop
        (0x30, 0, 0, 23),  # ldb [23]              IP protocol
        (0x15, 0, 11, 17),  # jne UDP -> drop
        (0x28, 0, 0, 20),  # ldh [20]              fragment offset
        (0x45, 9, 0, 0x1FFF),  # jset -> drop
        (0xB1, 0, 0, 14),  # ldxb 4*([14]&0xf)     IP header length
        (0x48, 0, 0, 16),  # ldh [x+16]            destination port
        (0x15, 5, 0, port),  # jeq port -> accept
        (0x48, 0, 0, 14),  # ldh [x+14]            source port
        (0x15, 0, 4, port),  # jne port -> drop
        (0x50, 0, 0, 23),  # ldb [x+23]            RTP marker and payload type
        (0x54, 0, 0, 0x7F),  # and #0x7f           payload type
        (0x15, 0, 1, TELEPHONE_EVENT_PT),  # jne 101 -> drop
        (0x06, 0, 0, 0x40000),  # accept
        (0x06, 0, 0, 0),  # drop
    ]
    return b"".join(struct.pack("HBBI", *ins) for ins in program)


@dataclass(frozen=True)
class SniffStats:
    packets: int
    dropped: int
    """Packets the kernel dropped for want of buffer: the figures missed them."""


class RtpSniffer:
    """``start()`` before the load, ``stop()`` after: the meter then holds the run's samples."""

    def __init__(self, media_port: int, meter: HeardMeter, device: str = "lo") -> None:
        self.media_port = media_port
        self.meter = meter
        self._device = device
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._packets = 0

    def start(self) -> None:
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_IP))
        except PermissionError as exc:
            raise BenchError(
                "timing what callers hear needs a packet socket (CAP_NET_RAW): run `ivr bench` as root"
            ) from exc
        code = udp_port_filter(self.media_port)
        buffer = ctypes.create_string_buffer(code)
        sock.setsockopt(
            socket.SOL_SOCKET, _SO_ATTACH_FILTER, struct.pack("HL", len(code) // 8, ctypes.addressof(buffer))
        )
        # Room for seconds of backlog (some 100,000 packets; 500 callers' answers are 25,000 a second)
        # while this thread waits for a core on a saturated machine; the run's end drains it.
        sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 256 * 1024 * 1024)
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        sock.bind((self._device, _ETH_P_IP))
        sock.settimeout(0.2)
        while True:  # packets queued before the filter was attached
            try:
                sock.recv(65535, socket.MSG_DONTWAIT)
            except (BlockingIOError, TimeoutError):
                break
        self._sock = sock
        self._thread = threading.Thread(target=self._run, name="bench-rtp-sniffer", daemon=True)
        self._thread.start()

    def stop(self) -> SniffStats:
        """End the capture once the packets still queued are read (the load has ended by then)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        dropped = 0
        if self._sock is not None:
            _, dropped = struct.unpack("II", self._sock.getsockopt(_SOL_PACKET, _PACKET_STATISTICS, 8))
            self._sock.close()
        return SniffStats(packets=self._packets, dropped=dropped)

    def _run(self) -> None:
        sock = self._sock
        assert sock is not None
        port = self.media_port
        ancillary = socket.CMSG_SPACE(16)
        while True:
            stopping = self._stop.is_set()  # then read what is still queued, and end when none is left
            try:
                frame, cmsgs, _, _ = sock.recvmsg(2048, ancillary, socket.MSG_DONTWAIT if stopping else 0)
            except (TimeoutError, BlockingIOError):
                if stopping:
                    return
                continue
            except OSError:
                return
            at = _kernel_time(cmsgs)
            if at is not None:
                self._packets += 1
                self._feed(frame, at, port)

    def _feed(self, frame: bytes, at: float, port: int) -> None:
        ip_header = (frame[_ETH_HEADER] & 0x0F) * 4
        udp = _ETH_HEADER + ip_header
        rtp = udp + 8
        if len(frame) < rtp + 12 or frame[rtp] >> 6 != 2:
            return
        source, destination = struct.unpack_from("!HH", frame, udp)
        payload_type = frame[rtp + 1] & 0x7F
        header = rtp + 12 + (frame[rtp] & 0x0F) * 4
        if source == port and payload_type == TELEPHONE_EVENT_PT:
            (timestamp,) = struct.unpack_from("!I", frame, rtp + 4)
            self.meter.key_packet(destination, at, timestamp)
        elif destination == port and payload_type == _PCMU_PT:
            self.meter.audio_packet(source, at, frame[header:])


def _kernel_time(cmsgs: list[tuple[int, int, bytes]]) -> float | None:
    for level, kind, data in cmsgs:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanos = struct.unpack("qq", data[:16])
            return int(seconds) + int(nanos) / 1e9
    return None
