"""Dead letters: writes the database refused as bad rows, kept with the reason instead of being lost.

Each is one JSON line in ``<state_dir>/deadletter.jsonl`` (0600, appended and fsync'd): when it was set
aside, the reason (the database's own message), and the write itself as the journal encodes it, so an
operator can read it, fix it and store it by hand.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ivr_engine.privatefiles import PRIVATE_FILE
from ivr_engine.storage.codec import encode_write

if TYPE_CHECKING:
    from ivr_engine.storage.writes import Write

__all__ = ["DeadLetters"]


class DeadLetters:
    """The dead-letter file at ``path``; ``add`` raises OSError when it cannot be written."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, write: Write, reason: str, at: datetime) -> None:
        line = json.dumps({"at": at.isoformat(), "reason": reason, "write": json.loads(encode_write(write))})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[dict[str, object]]:
        """Every dead letter so far (for tests and operators)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]
