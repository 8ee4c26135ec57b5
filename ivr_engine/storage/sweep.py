"""Closing call rows nobody will close: the service that ran them died, or Asterisk lost their channels.

After every (re)connect the service knows which channels still exist; a row still ``in_progress`` whose
channel is not among them, and which started before the resync began, can never be ended by a call
task, so it is closed here with a disposition saying why.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr_engine.storage.database import Database
from ivr_engine.storage.models import IN_PROGRESS, Call

__all__ = ["LOST", "close_stale_calls"]

LOST = "lost"
"""Disposition of a call row whose channel was gone when the service looked: outcome unknown."""


async def close_stale_calls(
    database: Database,
    alive: Set[str],
    started_before: datetime,
    *,
    disposition: str = LOST,
    node: str | None = None,
) -> list[str]:
    """Close every open call row of ``node`` not in ``alive`` that started before ``started_before``;
    their ids. ``node`` is the service's ``node_id`` (None on a single node): a node of a multi-node
    centre knows only its own Asterisk's channels, so it never closes another node's calls."""
    mine = Call.node == node if node else Call.node.is_(None)

    def close(session: Session) -> list[str]:
        rows = session.scalars(
            select(Call).where(Call.disposition == IN_PROGRESS, Call.started < started_before, mine)
        ).all()
        stale = [row for row in rows if row.id not in alive]
        for row in stale:
            row.ended, row.disposition = started_before, disposition
        return [row.id for row in stale]

    return await database.run(close)
