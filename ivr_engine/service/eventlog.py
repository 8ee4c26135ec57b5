"""A JSON-lines log of every ARI event the service handles, for lab tests (testsuite-style counts).

One line per event: ``{"type", "channel", "args", "time"}`` (time from the service's clock) appended to
``<state_dir>/events.jsonl``.
A ``ChannelDtmfReceived`` line says that a key was pressed, never which one: a caller's PIN or account
number must not be readable from a log. The file is created 0600 and rotated by size (``.1`` ... ``.N``;
see :mod:`ivr_engine.logfiles`).
"""

from __future__ import annotations

import json
import logging
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

    def open(self) -> None:
        self._handler = PrivateRotatingFileHandler(self.path, self.rotation, raise_errors=True)

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
        self._handler.emit(logging.makeLogRecord({"msg": json.dumps(line)}))


def read_events(path: Path) -> list[dict[str, object]]:
    """All lines of an event log (tests)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
