"""What the live service writes (call start and end, node entries and events, survey answers,
voicemails) and how a batch of them is applied in one transaction.

A batch's calls started, node events and node entries each become one multi-row statement, its calls
ended one executemany (Core statements: the ORM's unit of work cost more than the rows' values). A
``replay`` (writes from the journal of a service that died, some perhaps stored already) skips rows
already there, so a replayed write is stored once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from ivr_engine.flow.ports import CallRecord, NodeEntry, NodeEvent
from ivr_engine.storage.models import Call, NodeEntryRow, NodeEventRow, SurveyResponse, Voicemail, spent_ms

__all__ = [
    "CallEnded",
    "CallStarted",
    "SurveyAnswer",
    "VoicemailLeft",
    "Write",
    "apply_writes",
    "storable",
]

# Core inserts for the node log's rows (most of a call's writes): the ORM's bulk path costs more per row
# and these rows need nothing from it (flat values, the ids come from the database).
_NODE_EVENTS = NodeEventRow.metadata.tables[NodeEventRow.__tablename__]
_NODE_ENTRIES = NodeEntryRow.metadata.tables[NodeEntryRow.__tablename__]
_CALLS = Call.metadata.tables[Call.__tablename__]

# The batch's fixed statements, built once (Core, ``expanding`` lists): building and keying an ORM
# select or delete for every batch cost more than running it.
_STORED_CALLS = select(_CALLS.c.id).where(_CALLS.c.id.in_(bindparam("ids", expanding=True)))
_DELETE_ENTRIES = delete(_NODE_ENTRIES).where(_NODE_ENTRIES.c.call_id.in_(bindparam("ids", expanding=True)))
_END_CALL = (
    update(_CALLS)
    .where(_CALLS.c.id == bindparam("ended_id"))
    .values(ended=bindparam("ended"), disposition=bindparam("disposition"))
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallStarted:
    call: CallRecord
    node: str | None = None
    """The node (setting ``node_id``) that handles the call; None on a single node."""


@dataclass(frozen=True)
class CallEnded:
    call_id: str
    ended: datetime
    disposition: str


@dataclass(frozen=True)
class SurveyAnswer:
    call_id: str
    survey: str
    question: str
    score: int
    agent_id: str | None
    created: datetime


@dataclass(frozen=True)
class VoicemailLeft:
    call_id: str
    caller: str
    mailbox: str
    file_path: str
    duration: float
    created: datetime


Write = NodeEvent | NodeEntry | CallStarted | CallEnded | SurveyAnswer | VoicemailLeft


_SHORT_TEXT = 64  # calls.caller/dialled and voicemails.caller/mailbox are VARCHAR(64)


def storable(text: str, limit: int = _SHORT_TEXT) -> str:
    """``text`` as every database stores it: NUL dropped, lone surrogates as ``?``, cut to ``limit``.

    Caller ids come from the network; a row PostgreSQL refuses would lose the whole call record.
    """
    return text.replace("\0", "").encode("utf-8", "replace").decode("utf-8")[:limit]


def apply_writes(session: Session, writes: Sequence[Write], *, replay: bool = False) -> None:
    """Apply ``writes`` with as few statements as their effect allows: the calls started as one
    multi-row insert, the node events as another, the node entries as one replacement, the calls ended
    as one update per row in one round (executemany). A ``replay`` (writes from the journal of a run that
    died, some perhaps already stored) skips rows already there.

    The result is that of applying them one by one in order: no row refers to another by foreign key
    (``call_id`` is a soft reference), so only a call's row, its entry and its end depend on order, and
    those are kept (a call started and ended in one batch is inserted, then ended; its entry is gone).
    """
    started: dict[str, CallStarted] = {}
    events: list[NodeEvent] = []
    entries: dict[str, NodeEntry] = {}
    ended: dict[str, CallEnded] = {}
    others: list[Write] = []
    for write in writes:
        match write:
            case NodeEvent():
                events.append(write)
            case NodeEntry():
                entries[write.call_id] = write  # only where the call is now matters
            case CallStarted():
                started.setdefault(write.call.call_id, write)  # a second start changes nothing
            case CallEnded():
                entries.pop(write.call_id, None)  # an end removes the call's entry
                ended[write.call_id] = write  # the last end is the one that stays
            case _:
                others.append(write)
    stored = _stored_calls(session, started.keys() | ended.keys())
    _insert_calls(session, started, stored)
    _insert_events(session, events, replay)
    _replace_entries(session, entries, ended)
    _end_calls(session, ended, stored | started.keys())
    for write in others:
        if not (replay and _stored_already(session, write)):
            _apply_one(session, write)


def _stored_calls(session: Session, call_ids: set[str]) -> set[str]:
    """Which of ``call_ids`` have a row already (one query for the starts and the ends of a batch)."""
    if not call_ids:
        return set()
    return set(session.execute(_STORED_CALLS, {"ids": list(call_ids)}).scalars())


def _insert_calls(session: Session, started: dict[str, CallStarted], present: set[str]) -> None:
    rows = [
        {"id": call_id, "caller": storable(write.call.caller), "dialled": storable(write.call.dialled),
         "started": write.call.started, "node": storable(write.node) if write.node else None}
        for call_id, write in started.items() if call_id not in present
    ]  # fmt: skip
    if rows:
        session.execute(insert(_CALLS), rows)


def _replace_entries(session: Session, entries: dict[str, NodeEntry], ended: dict[str, CallEnded]) -> None:
    gone = [*entries, *(call_id for call_id in ended if call_id not in entries)]
    if gone:
        session.execute(_DELETE_ENTRIES, {"ids": gone})
    if entries:
        session.execute(insert(_NODE_ENTRIES), [dict(vars(entry)) for entry in entries.values()])


def _end_calls(session: Session, ended: dict[str, CallEnded], present: set[str]) -> None:
    """``present``: the calls with a row (stored before the batch, or started in it)."""
    for call_id in ended.keys() - present:
        log.warning("call %s ended but was never started; end not recorded", call_id)
    rows = [
        {"ended_id": call_id, "ended": end.ended, "disposition": end.disposition}
        for call_id, end in ended.items() if call_id in present
    ]  # fmt: skip
    if rows:
        session.connection().execute(_END_CALL, rows)


def _insert_events(session: Session, events: list[NodeEvent], replay: bool = False) -> None:
    if events and replay:
        keys = [(event.call_id, event.seq) for event in events]
        query = select(NodeEventRow.call_id, NodeEventRow.seq).where(
            tuple_(NodeEventRow.call_id, NodeEventRow.seq).in_(keys)
        )
        found = {(row[0], row[1]) for row in session.execute(query)}
        events = [event for event in events if (event.call_id, event.seq) not in found]
    if events:
        rows = [{**vars(event), "spent_ms": spent_ms(event.entered, event.left)} for event in events]
        session.execute(insert(_NODE_EVENTS), rows)


def _stored_already(session: Session, write: Write) -> bool:
    """For a replayed write: is it in the database already? (Calls and their ends are idempotent.)"""
    match write:
        case SurveyAnswer():
            query = select(SurveyResponse.id).where(
                SurveyResponse.call_id == write.call_id, SurveyResponse.survey == write.survey,
                SurveyResponse.question == write.question, SurveyResponse.created == write.created,
            )  # fmt: skip
        case VoicemailLeft():
            query = select(Voicemail.id).where(
                Voicemail.call_id == write.call_id, Voicemail.file_path == write.file_path
            )
        case _:
            return False
    return session.execute(query.limit(1)).first() is not None


def _apply_one(session: Session, write: Write) -> None:
    match write:
        case SurveyAnswer():
            session.add(SurveyResponse(**asdict(write)))
            session.flush()
        case VoicemailLeft():
            fields = asdict(write) | {"caller": storable(write.caller), "mailbox": storable(write.mailbox)}
            session.add(Voicemail(**fields))
            session.flush()
