"""A JSON-lines log of every ARI event the service handles, for lab tests (testsuite-style counts).

One line per event: ``{"type", "channel", "args", "time"}`` (time from the service's clock, taken when
the event is handled) appended to ``<state_dir>/events.jsonl``.
A ``ChannelDtmfReceived`` line says that a key was pressed, never which one: a caller's PIN or account
number must not be readable from a log. The file is created 0600 and rotated by size (``.1`` ... ``.N``;
see :mod:`ivr_engine.logfiles`).

Lines are written in batches, not one ``write`` each (39 events a call; the writes were most of this
log's cost): inside a running event loop a line waits at most ``flush_interval`` seconds (0.5), or until
``flush_bytes`` are waiting, a ``StasisEnd`` (a channel's last event: its lines are all on disk when it
has left the app), :meth:`flush` (the service flushes when a call's task ends) or :meth:`close`. A
clean stop or an exception that ends ``ivr serve`` goes through ``close``; ``kill -9`` or a power cut
loses at most the last ``flush_interval`` of lines. Outside an event loop each line is written at once.
A failed batch write is logged (``service.eventlog.failed``) and its lines dropped.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import orjson

from ivr_engine.ari.dispatch import channel_of
from ivr_engine.ari.events import AriEvent, StasisEnd, StasisStart, event_type
from ivr_engine.clock import ServiceClock
from ivr_engine.flow.ports import Clock
from ivr_engine.logfiles import DEFAULT_ROTATION, PrivateRotatingFileHandler, Rotation
from ivr_engine.logs import fields

__all__ = ["EventLog", "read_events"]

log = logging.getLogger(__name__)

class EventLog:
    """Append-only; open it for the service's lifetime. Writes fail with ``OSError`` only outside an
    event loop (inside one, see the module's doc)."""

    def __init__(
        self, path: Path, rotation: Rotation = DEFAULT_ROTATION, clock: Clock | None = None, *,
        flush_interval: float = 0.5, flush_bytes: int = 64 * 1024,
    ) -> None:  # fmt: skip
        self.path = path
        self.rotation = rotation
        self.flush_interval = flush_interval
        self.flush_bytes = flush_bytes
        self._clock = clock or ServiceClock()
        self._handler: PrivateRotatingFileHandler | None = None
        self._size = 0
        self._lines: list[bytes] = []
        self._waiting = 0  # bytes in ``_lines``
        self._timer: asyncio.TimerHandle | None = None

    def open(self) -> None:
        self._handler = PrivateRotatingFileHandler(self.path, self.rotation, raise_errors=True)
        self._size = self.path.stat().st_size if self.path.exists() else 0

    def close(self) -> None:
        if self._handler is not None:
            self.flush()
            self._handler.close()
            self._handler = None

    def append(self, event: AriEvent, channel: str | None = None) -> None:
        """Log ``event``; ``channel`` is its ``channel_of`` when the caller has it already."""
        if self._handler is None:
            return
        line = {
            "type": event_type(event),
            "channel": channel if channel is not None else channel_of(event),
            "args": list(event.args) if isinstance(event, StasisStart) else None,
            "time": self._clock.now().isoformat(timespec="milliseconds"),
        }
        data = orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)  # UTF-8
        self._lines.append(data)
        self._waiting += len(data)
        if self._waiting >= self.flush_bytes or isinstance(event, StasisEnd):
            self.flush()  # StasisEnd is a channel's last event: its lines are all on disk then
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop: nothing would flush later
                self._write()
                return
            self._timer = loop.call_later(self.flush_interval, self.flush)

    def flush(self) -> None:
        """Write the waiting lines now; a failure is logged, never raised."""
        try:
            self._write()
        except OSError as exc:
            log.error(fields("service.eventlog.failed", error=str(exc)))

    def _write(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        lines, self._lines, self._waiting = self._lines, [], 0
        handler = self._handler
        if not lines or handler is None:
            return
        if handler.stream is None:
            handler.stream = handler._open()
        limit = self.rotation.max_bytes
        chunk: list[bytes] = []
        size = self._size
        for data in lines:  # rotated by line, as if written one by one
            if size > 0 and size + len(data) > limit:
                handler.stream.write(b"".join(chunk).decode())
                chunk = []
                handler.doRollover()
                size = 0
            chunk.append(data)
            size += len(data)
        handler.stream.write(b"".join(chunk).decode())
        handler.stream.flush()
        self._size = size


def read_events(path: Path) -> list[dict[str, object]]:
    """All lines of an event log (tests)."""
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
