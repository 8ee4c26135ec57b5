"""The readable call reference people see on the desk instead of Asterisk's id (``1796287882.0``).

``call_reference`` is the date the call started, in the centre's zone, and a five-digit number hashed from
the call id: ``2026-12-04 #48219``. It is a label, not a key: the same call always gets the same reference,
two calls of one day share one only by a rare chance, and the pages keep the raw id (in a ``title``) for
support. ``pop_json`` adds it to a screen-pop's JSON (the call and each of its last calls).
"""

from __future__ import annotations

from datetime import UTC, datetime
from hashlib import blake2b
from typing import Any

from ivr_engine.clock import CentreTime
from ivr_engine.screenpop import ScreenPop

__all__ = ["call_reference", "pop_json"]

_DIGITS = 5


def call_reference(call_id: str, started: datetime, centre: CentreTime) -> str:
    """``YYYY-MM-DD #NNNNN``: the local start date and a number derived from ``call_id``."""
    digest = blake2b(call_id.encode("utf-8"), digest_size=8).digest()
    number = int.from_bytes(digest, "big") % 10**_DIGITS
    if started.tzinfo is None:  # as a database without zones hands it back: stored in UTC
        started = started.replace(tzinfo=UTC)
    return f"{centre.local(started):%Y-%m-%d} #{number:0{_DIGITS}d}"


def pop_json(pop: ScreenPop, centre: CentreTime) -> dict[str, Any]:
    """The screen-pop's JSON with ``call_ref`` on the call and on each past call.

    The call's own reference uses its start as the caller's history records it (so it matches that row),
    or the moment it was answered while the history does not have it yet.
    """
    data = pop.to_json()
    started = next((p.started for p in pop.last_calls if p.call_id == pop.call_id), pop.answered_at)
    data["call_ref"] = call_reference(pop.call_id, started, centre)
    for row, past in zip(data["last_calls"], pop.last_calls, strict=True):
        row["call_ref"] = call_reference(past.call_id, past.started, centre)
    return data
