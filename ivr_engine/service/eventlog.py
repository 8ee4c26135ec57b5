"""A JSON-lines log of every ARI event the service handles, for lab tests (testsuite-style counts).

One line per event: ``{"type", "channel", "args", "time"}`` (time from the service's clock) appended to
``<state_dir>/events.jsonl``.
A ``ChannelDtmfReceived`` line says that a key was pressed, never which one: a caller's PIN or account
number must not be readable from a log. The file is created 0600 and rotated by size (``.1`` ... ``.N``;
see :mod:`ivr_engine.logfiles`).
"""

from __future__ import annotations

import json
from pathlib import Path

from ivr_engine.ari.dispatch import channel_of
from ivr_engine.ari.events import AriEvent, StasisStart, event_type
from ivr_engine.clock import ServiceClock
from ivr_engine.flow.ports import Clock
from ivr_engine.logfiles import DEFAULT_ROTATION, PrivateRotatingFileHandler, Rotation

__all__ = ["EventLog", "read_events"]


class EventLog:
    """Append-only; open it for the service's lifetime. A failed write raises ``OSError``."""

    def __init__(self, path: Path, rotation: Rotation = DEFAULT_ROTATION, clock: Clock | None = None) -> None:
        self.path = path
        self.rotation = rotation
        self._clock = clock or ServiceClock()
        self._handler: PrivateRotatingFileHandler | None = None
        self._size = 0

    def open(self) -> None:
        self._handler = PrivateRotatingFileHandler(self.path, self.rotation, raise_errors=True)
        self._size = self.path.stat().st_size if self.path.exists() else 0

    def close(self) -> None:
        if self._handler is not None:
            self._handler.close()
            self._handler = None

    def append(self, event: AriEvent) -> None:
        if self._handler is None:
            return
        line = {
            "type": event_type(event),
            "channel": channel_of(event),
            "args": list(event.args) if isinstance(event, StasisStart) else None,
            "time": self._clock.now().isoformat(timespec="milliseconds"),
        }
        # Written straight to the handler's stream (one line per ARI event: logging's record, format
        # and per-line size check cost more than the line); the handler still opens (0600) and rotates.
        text = json.dumps(line) + "\n"  # ASCII: characters are bytes
        handler = self._handler
        if self._size > 0 and self._size + len(text) > self.rotation.max_bytes:
            handler.doRollover()
            self._size = 0
        if handler.stream is None:
            handler.stream = handler._open()
        handler.stream.write(text)
        handler.stream.flush()
        self._size += len(text)


def read_events(path: Path) -> list[dict[str, object]]:
    """All lines of an event log (tests)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
