"""Closing call rows nobody will close: the service that ran them died, or Asterisk lost their channels.

After every (re)connect, and periodically, the service knows which channels still exist; a row still
``in_progress`` whose channel is not among them, and which started before the sweep began, can never be
ended by a call task, so it is closed here with a disposition saying why. The node such a call was in
(its ``node_entries`` row, left by a service that died) goes to ``node_events`` with the outcome
``lost``, so the path of the call shows where it was when it was lost.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ivr_engine.storage.database import Database
from ivr_engine.storage.errors import DatabaseUnavailable
from ivr_engine.storage.models import IN_PROGRESS, Call, NodeEntryRow, NodeEventRow, spent_ms
from ivr_engine.storage.writer import WriteBehind

__all__ = ["LOST", "NODE_LOST", "close_stale_calls", "close_stale_calls_once_written"]

LOST = "lost"
"""Disposition of a call row whose channel was gone when the service looked: outcome unknown."""
NODE_LOST = "node_lost"
"""Disposition of a call row of a node that died (several nodes: its lease expired, a survivor closed it)."""


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
        session.flush()
        _log_lost_nodes(session)
        return [row.id for row in stale]

    return await database.run(close)


def _log_lost_nodes(session: Session) -> None:
    """Node entries of calls already ended (closed above, or before their last entry was written) become
    node events with the outcome ``lost`` (left = when the call was closed), unless already logged."""
    found = session.execute(
        select(NodeEntryRow, Call.ended)
        .join(Call, Call.id == NodeEntryRow.call_id)
        .where(Call.disposition != IN_PROGRESS)
    ).all()
    if not found:
        return
    for entry, ended in found:
        same = (NodeEventRow.call_id == entry.call_id, NodeEventRow.seq == entry.seq)
        logged = session.execute(select(NodeEventRow.id).where(*same)).first()
        if logged is None:
            left = max(ended or entry.entered, entry.entered)
            session.execute(insert(NodeEventRow), [{
                "call_id": entry.call_id, "seq": entry.seq, "flow": entry.flow, "node": entry.node,
                "node_type": entry.node_type, "entered": entry.entered, "left": left, "input": None,
                "outcome": LOST, "spent_ms": spent_ms(entry.entered, left),
            }])  # fmt: skip
    session.execute(delete(NodeEntryRow).where(NodeEntryRow.call_id.in_([e.call_id for e, _ in found])))


async def close_stale_calls_once_written(
    writer: WriteBehind,
    database: Database,
    alive: Set[str],
    started_before: datetime,
    *,
    node: str | None = None,
) -> list[str]:
    """``close_stale_calls`` once every write accepted so far is in the database.

    A call's own end may still be queued (a journal replayed after a restart, a database that was down):
    closing its row as ``lost`` first would also log its last node as lost and hide the real end. When the
    writes cannot be stored yet, raises DatabaseUnavailable and the service sweeps again later.
    """
    if not await writer.flush():
        raise DatabaseUnavailable("writes accepted earlier are not stored yet: stale rows wait")
    return await close_stale_calls(database, alive, started_before, node=node)
