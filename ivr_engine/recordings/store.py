"""Call recordings in the database: the sink the live ACD hands kept files to, and the reads the CLI and
the web pages use. Each read is one unit of work on a ``Session`` (``Database.call``/``run``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from acd.live.recording import SavedRecording
from ivr_engine.logs import fields
from ivr_engine.storage.database import Database
from ivr_engine.storage.models import CallRecording

__all__ = [
    "RecordingItem", "RecordingStore", "T", "Work", "recent_recordings", "recording", "recordings_of_call",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[Session], T]
"""One unit of work on a session (what ``Database.call``/``run`` take)."""


@dataclass(frozen=True)
class RecordingItem:
    id: int
    call_id: str
    agent_id: str
    queue: str
    started: datetime
    duration: float
    file_path: str

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "call_id": self.call_id, "agent_id": self.agent_id, "queue": self.queue,
                "started": self.started.isoformat(), "duration": self.duration, "file": self.file_path}


class RecordingStore:
    """``acd.live.recording.RecordingSink`` on the service's database."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def recording_saved(self, saved: SavedRecording) -> bool:
        row = CallRecording(call_id=saved.call_id, agent_id=saved.agent_id, queue=saved.queue,
                            file_path=str(saved.path), started=datetime.fromtimestamp(saved.started, UTC),
                            duration=round(saved.duration, 2))

        def work(session: Session) -> bool:
            session.add(row)
            return True

        try:
            return await self._db.run(work)
        except SQLAlchemyError as exc:
            log.warning(fields("recording.row_failed", call=saved.call_id, error=type(exc).__name__))
            return False


def _item(row: CallRecording) -> RecordingItem:
    return RecordingItem(row.id, row.call_id, row.agent_id, row.queue, row.started, float(row.duration),
                         row.file_path)


def recordings_of_call(session: Session, call_id: str) -> list[RecordingItem]:
    rows = session.scalars(select(CallRecording).where(CallRecording.call_id == call_id)
                           .order_by(CallRecording.started, CallRecording.id)).all()
    return [_item(r) for r in rows]


def recent_recordings(session: Session, limit: int = 50) -> list[RecordingItem]:
    """Newest first (the supervisor's list)."""
    rows = session.scalars(select(CallRecording).order_by(CallRecording.started.desc(),
                                                          CallRecording.id.desc()).limit(limit)).all()
    return [_item(r) for r in rows]


def recording(session: Session, recording_id: int) -> RecordingItem | None:
    row = session.get(CallRecording, recording_id)
    return None if row is None else _item(row)
