"""A JSON-lines log of every ARI event the service handles, for lab tests (testsuite-style counts).

One line per event: ``{"type", "channel", "digit", "args", "time"}`` appended to
``<state_dir>/events.jsonl``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from ivr_engine.ari.dispatch import channel_of
from ivr_engine.ari.events import AriEvent, ChannelDtmfReceived, StasisStart, event_type

__all__ = ["EventLog", "read_events"]


class EventLog:
    """Append-only, line-buffered; open it for the service's lifetime."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", buffering=1, encoding="utf-8")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def append(self, event: AriEvent) -> None:
        if self._file is None:
            return
        line = {
            "type": event_type(event),
            "channel": channel_of(event),
            "digit": event.digit.value if isinstance(event, ChannelDtmfReceived) else None,
            "args": list(event.args) if isinstance(event, StasisStart) else None,
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        self._file.write(json.dumps(line) + "\n")


def read_events(path: Path) -> list[dict[str, object]]:
    """All lines of an event log (tests)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
