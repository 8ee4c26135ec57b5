"""What the service closes when the ACD releases a node whose lease expired (``acd.live.lease``'s
``on_lost``): the node's open call rows (disposition ``node_lost``) and its callback claims, which go back
in line (``pending``, no attempt counted) so that another node dials them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from acd.records.dialing import release_claims
from ivr_engine.logs import fields
from ivr_engine.storage.database import Database
from ivr_engine.storage.sweep import NODE_LOST, close_stale_calls

__all__ = ["LostNode", "close_lost_node"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LostNode:
    calls: list[str]
    """The ids of the call rows closed ``node_lost``."""
    callbacks: int
    """The callbacks it was dialling, handed back."""


async def close_lost_node(database: Database, now: datetime, node: str) -> LostNode:
    calls = await close_stale_calls(database, set(), now, disposition=NODE_LOST, node=node)
    callbacks = await database.run(lambda s: release_claims(s, node=node))
    if callbacks:
        log.info(fields("acd.callback.released", node=node, callbacks=callbacks))
    return LostNode(calls, callbacks)
