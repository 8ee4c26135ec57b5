"""The caller's ear and keypad for live flow test cases: one RTP endpoint of our own per call.

SIPp places the call (SIP only) and offers this endpoint's port in its SDP, so Asterisk sends the caller's
audio here. The endpoint sends the caller's RFC 4733 keys and speech itself, from the same port (the lab's
callers use symmetric RTP, so Asterisk keeps sending where the caller sends from): it replays the packets
of the restamped DTMF pcaps and speech pcaps SIPp would have played, on a schedule that starts when the
first audio arrives (the call was answered and the flow spoke). It notes when each key went out and,
for every packet received, when it arrived and how loud it was: what the caller actually heard.
"""

from __future__ import annotations

import asyncio
import math
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from ivr_engine.lab.errors import SippError

__all__ = ["Heard", "HeardPacket", "RtpEar", "SentItem", "rtp_packets"]

_PCAP_HEADER = 24
_RECORD_HEADER = 16
_LINK_HEADER = {1: 14, 113: 16}  # Ethernet, Linux cooked capture
_RTP_HEADER = 12
_PCMU = 0
AUDIBLE_RMS = 200.0  # about -44 dBFS: quieter packets count as silence
_MAX_QUIET_WAIT_S = 30.0
_MAX_PROMPT_WAIT_S = 10.0  # a gated key waits this long at most for its node's prompt to start
Gate = Callable[[str], Awaitable[None]]
Held = Callable[[], Awaitable[None]]


def _mu_law_linear(byte: int) -> int:
    value = ~byte & 0xFF
    magnitude = (((value & 0x0F) << 3) + 0x84) << ((value >> 4) & 0x07)
    return (0x84 - magnitude) if value & 0x80 else (magnitude - 0x84)


_SQUARES = tuple(_mu_law_linear(b) ** 2 for b in range(256))


def rtp_packets(pcap: bytes) -> list[tuple[float, bytes]]:
    """``(seconds from the first packet, RTP packet)`` for every UDP packet of an IPv4 pcap."""
    if len(pcap) < _PCAP_HEADER or pcap[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"):
        raise SippError("not a pcap file")
    endian = "<" if pcap[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    link = _LINK_HEADER.get(struct.unpack(f"{endian}I", pcap[20:24])[0])
    if link is None:
        raise SippError("pcap link type not supported")
    packets: list[tuple[float, bytes]] = []
    first: float | None = None
    offset = _PCAP_HEADER
    while offset + _RECORD_HEADER <= len(pcap):
        seconds, micros, captured = struct.unpack(f"{endian}III", pcap[offset : offset + 12])
        frame = pcap[offset + _RECORD_HEADER : offset + _RECORD_HEADER + captured]
        offset += _RECORD_HEADER + captured
        ip = frame[link:]
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        at = seconds + micros / 1e6
        first = at if first is None else first
        packets.append((at - first, bytes(ip[(ip[0] & 0x0F) * 4 + 8 :])))
    return packets


@dataclass(frozen=True)
class HeardPacket:
    """One RTP packet the caller received: when (``time.time()``) and its loudness (RMS, 16-bit scale)."""

    at: float
    rms: float


@dataclass(frozen=True)
class SentItem:
    """Something the caller sends, ``at_s`` after the first audio: a key (``key``) or speech."""

    at_s: float
    packets: tuple[tuple[float, bytes], ...]
    key: str = ""
    quiet_s: float = 0.0  # also wait until nothing audible came for this long (the prompt has ended)
    node: str = ""  # and first until the call is in this node (``flow/node``), as the gate tells
    after_s: float = 0.0  # a key with ``node``: then this long more (else: until audio came, then quiet)
    on_hold: bool = False  # a key with ``node``: and, before ``after_s``, until the call waits in a queue


@dataclass
class Heard:
    """What one call's caller received and sent (times from ``time.time()``)."""

    packets: list[HeardPacket] = field(default_factory=list)
    keys: list[tuple[float, str]] = field(default_factory=list)  # when each key started going out
    first_audio: float | None = None
    last_audible: float = 0.0


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, heard: Heard, started: asyncio.Event) -> None:
        self.heard = heard
        self.started = started
        self.peer: tuple[str, int] | None = None
        self.transport: asyncio.DatagramTransport | None = None

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) <= _RTP_HEADER or data[1] & 0x7F != _PCMU:
            return
        now = time.time()
        payload = data[_RTP_HEADER + 4 * (data[0] & 0x0F) :]
        rms = math.sqrt(sum(_SQUARES[b] for b in payload) / len(payload)) if payload else 0.0
        self.heard.packets.append(HeardPacket(now, rms))
        if rms >= AUDIBLE_RMS:
            self.heard.last_audible = now
        self.peer = addr
        if self.heard.first_audio is None:
            self.heard.first_audio = now
            self.started.set()


class RtpEar:
    """Bind ``open`` a UDP port on ``host``; ``perform`` sends the schedule once audio arrives."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.heard = Heard()
        self._started = asyncio.Event()
        self._protocol: _Protocol | None = None

    @property
    def port(self) -> int:
        assert self._protocol is not None
        assert self._protocol.transport is not None
        return int(self._protocol.transport.get_extra_info("sockname")[1])

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((self.host, 0))
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: _Protocol(self.heard, self._started), sock=sock
        )
        protocol.transport = transport
        self._protocol = protocol

    def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()

    async def answered(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the first audio."""
        try:
            await asyncio.wait_for(self._started.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def perform(
        self, items: Sequence[SentItem], wait_audio_s: float, gate: Gate | None = None,
        held: Held | None = None,
    ) -> bool:
        """Wait up to ``wait_audio_s`` for the first audio, then send ``items`` on time; False if no
        audio ever came (the call was not answered, or the flow never spoke). ``gate(node)`` returns
        once the call is in ``node`` (for items that name one), ``held()`` once it waits in a queue."""
        if not await self.answered(wait_audio_s):
            return False
        assert self._protocol is not None
        assert self.heard.first_audio is not None
        offset = time.time() - time.monotonic()
        start_mono = self.heard.first_audio - offset
        late = 0.0  # what waiting for quiet (or for a node) added: later items keep their spacing
        for item in items:
            if item.node and gate is not None and item.key:  # the node's time could not be planned
                late = await self._gated_key(item, gate, held) - (start_mono + item.at_s)
            elif item.node and gate is not None:  # speak from now until the node has surely heard enough
                spoken = await self._speak_into(item, gate)
                late = time.monotonic() - (start_mono + item.at_s + spoken)  # what follows keeps its spacing
                continue
            if item.quiet_s:
                late += await self._quiet(start_mono + late + item.at_s, item.quiet_s, offset)
            for at_s, packet in item.packets:
                delay = start_mono + late + item.at_s + at_s - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if at_s == item.packets[0][0] and item.key:
                    self.heard.keys.append((time.monotonic() + offset, item.key))
                if not self._send(packet):
                    return True
        return True

    def _send(self, packet: bytes) -> bool:
        assert self._protocol is not None
        transport, peer = self._protocol.transport, self._protocol.peer
        if transport is None or transport.is_closing() or peer is None:
            return False
        transport.sendto(packet, peer)
        return True

    async def _speak_into(self, item: SentItem, gate: Gate) -> float:
        """Send ``item``'s audio at once and over and over (renumbered) until ``gate(item.node)`` has
        returned and the audio's own length has passed since; return that length. A record node drops
        what comes before it starts, so speaking early costs nothing, while a record that gets no audio
        for 4 s is ended by Asterisk: the speech must not start late."""
        packets = item.packets
        length = packets[-1][0] + 0.02
        first_ts = struct.unpack("!I", packets[0][1][4:8])[0]
        last_ts = struct.unpack("!I", packets[-1][1][4:8])[0]
        ts_span = (last_ts - first_ts + 160) & 0xFFFFFFFF
        gated = asyncio.ensure_future(gate(item.node))
        began = time.monotonic()
        stop_at: float | None = None
        try:
            for loop in range(1000):
                for at_s, packet in packets:
                    now = time.monotonic()
                    if gated.done() and stop_at is None:
                        stop_at = now + length
                    if stop_at is not None and now >= stop_at:
                        return length
                    delay = began + loop * length + at_s - now
                    if delay > 0:
                        await asyncio.sleep(delay)
                    seq = (struct.unpack("!H", packet[2:4])[0] + loop * len(packets)) & 0xFFFF
                    ts = (struct.unpack("!I", packet[4:8])[0] + loop * ts_span) & 0xFFFFFFFF
                    if not self._send(packet[:2] + struct.pack("!HI", seq, ts) + packet[8:]):
                        return length
        finally:
            gated.cancel()
        return length

    async def _gated_key(self, item: SentItem, gate: Gate, held: Held | None) -> float:
        """Wait until the call is in ``item.node`` (and on hold, for ``item.on_hold``), then
        ``item.after_s``, or (none given) until audio came since (the node's prompt began); return the
        monotonic time the key is due."""
        await gate(item.node)
        if item.on_hold and held is not None:
            await held()
        entered = time.monotonic()
        if item.after_s:
            await asyncio.sleep(item.after_s)
            return time.monotonic()
        wall = time.time()
        while self.heard.last_audible < wall and time.monotonic() - entered < _MAX_PROMPT_WAIT_S:  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # packets arrive every 20 ms: polling is as good as an event here
        return time.monotonic()

    async def _quiet(self, due_mono: float, quiet_s: float, offset: float) -> float:
        """Wait until ``due_mono`` and then until nothing audible came for ``quiet_s``; return how far
        past ``due_mono`` that was."""
        delay = due_mono - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        give_up = time.monotonic() + _MAX_QUIET_WAIT_S
        while time.monotonic() < give_up:
            silent_for = time.monotonic() + offset - self.heard.last_audible
            if silent_for >= quiet_s:
                break
            await asyncio.sleep(min(0.05, quiet_s - silent_for))
        return max(0.0, time.monotonic() - due_mono)
