"""The retention sweep: call recordings older than ``recording_retention_days`` are deleted, file and row.

``sweep_expired`` takes the time to judge by (the service's clock), so tests move it instead of waiting.
A file already gone still has its row deleted; a file that cannot be deleted keeps its row (logged), so
the next sweep tries again and nothing is forgotten while its audio is still on disk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ivr_engine.logs import fields
from ivr_engine.storage.database import Database
from ivr_engine.storage.models import CallRecording

__all__ = ["SWEEP_SECONDS", "keep_sweeping", "sweep_expired"]

log = logging.getLogger(__name__)

SWEEP_SECONDS = 3600.0
"""``ivr serve`` sweeps at start and then this often."""


async def sweep_expired(database: Database, now: datetime, days: int) -> list[int]:
    """Delete the recordings that started more than ``days`` days before ``now``; their ids.
    ``days`` 0 or less keeps recordings for ever (nothing is deleted)."""
    if days <= 0:
        return []
    cutoff = now - timedelta(days=days)

    def work(session: Session) -> list[int]:
        rows = session.execute(select(CallRecording.id, CallRecording.file_path)
                               .where(CallRecording.started < cutoff)).all()
        deleted: list[int] = []
        for recording_id, file_path in rows:
            try:
                Path(file_path).unlink(missing_ok=True)
            except OSError as exc:
                log.warning(fields("recording.delete_failed", recording=recording_id, error=exc.strerror))
                continue
            deleted.append(recording_id)
        if deleted:
            session.execute(delete(CallRecording).where(CallRecording.id.in_(deleted)))
        return deleted

    deleted = await database.run(work)
    if deleted:
        log.info(fields("recording.expired", deleted=len(deleted), days=days))
    return deleted


async def keep_sweeping(database: Database, now: Callable[[], datetime], days: int,
                        every: float = SWEEP_SECONDS) -> None:
    """Sweep at once, then every ``every`` seconds, until cancelled; a failed sweep is logged and
    tried again next time."""
    while True:
        try:
            await sweep_expired(database, now(), days)
        except Exception as exc:  # the database may be down: the next sweep tries again
            log.warning(fields("recording.sweep_failed", error=type(exc).__name__))
        await asyncio.sleep(every)
