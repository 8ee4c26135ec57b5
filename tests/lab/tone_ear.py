"""A phone's ear and voice for lab tests: a UDP port a SIPp phone offers in its SDP (``sdp_port``).

It keeps every PCMU packet Asterisk sends (with its arrival time) and, once Asterisk's first packet
arrives, answers with a steady tone of ``hertz`` to where the latest packet came from (the lab's
endpoints use symmetric RTP). ``power(hz, start, end)`` measures a frequency in what the phone heard
in a time window (Goertzel), so a test can tell who hears whom.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import struct
import time
from typing import cast

from ivr_engine.lab.pcmu import mu_law

__all__ = ["ToneEar", "goertzel"]

_FRAME = 160  # 20 ms of 8 kHz PCMU


def _linear(byte: int) -> int:
    byte = ~byte & 0xFF
    magnitude = ((byte & 0x0F) << 3 | 0x84) << ((byte >> 4) & 0x07)
    return 0x84 - magnitude if byte & 0x80 else magnitude - 0x84


def goertzel(samples: list[int], hertz: float, rate: int = 8000) -> float:
    """Power of ``hertz`` in ``samples`` (one Goertzel filter over them), per sample."""
    coeff = 2 * math.cos(2 * math.pi * hertz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / max(1, len(samples))


class ToneEar(asyncio.DatagramProtocol):
    def __init__(self, hertz: float) -> None:
        self.hertz = hertz
        self.received: list[tuple[float, bytes]] = []
        self._transport: asyncio.DatagramTransport | None = None
        self._peer: tuple[str, int] | None = None
        self._sender: asyncio.Task[None] | None = None
        tone = bytes(mu_law(round(8000 * math.sin(2 * math.pi * hertz * i / 8000))) for i in range(8000))
        self._tone = tone + tone[:_FRAME]  # one second, plus a frame to wrap around

    async def open(self, host: str = "127.0.0.1") -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((host, 0))
        await asyncio.get_running_loop().create_datagram_endpoint(lambda: self, sock=sock)
        return int(sock.getsockname()[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) <= 12 or data[1] & 0x7F != 0:  # PCMU only (not RFC 4733 events)
            return
        self.received.append((time.monotonic(), data[12:]))
        first, self._peer = self._peer is None, addr  # a later call of the same phone: Asterisk's new port
        if first:
            self._sender = asyncio.get_running_loop().create_task(self._speak())

    async def _speak(self) -> None:
        start, sent = time.monotonic(), 0
        while self._transport is not None and self._peer is not None:
            due = int((time.monotonic() - start) / 0.02) + 1
            while sent < due:
                offset = (sent * _FRAME) % 8000
                payload = self._tone[offset:offset + _FRAME]
                stamp = (sent * _FRAME) & 0xFFFFFFFF
                header = struct.pack("!BBHII", 0x80, 0, sent & 0xFFFF, stamp, 0x5EED1E55)
                self._transport.sendto(header + payload, self._peer)
                sent += 1
            await asyncio.sleep(0.01)

    def samples(self, start: float, end: float) -> list[int]:
        """What the phone heard between two ``time.monotonic()`` readings, as linear samples."""
        return [_linear(b) for at, payload in self.received if start <= at < end for b in payload]

    def power(self, hertz: float, start: float, end: float) -> float:
        return goertzel(self.samples(start, end), hertz)

    async def close(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        if self._transport is not None:
            self._transport.close()
            self._transport = None
