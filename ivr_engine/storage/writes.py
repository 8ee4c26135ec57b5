"""What the live service writes (call start and end, node entries and events, survey answers,
voicemails) and how a batch of them is applied in one transaction.

Node events of a run become one multi-row insert; node entries of a run one replacement per call. A
``replay`` (writes from the journal of a service that died, some perhaps stored already) skips rows
already there, so a replayed write is stored once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, tuple_
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
    """Apply ``writes`` in order; runs of node events become one multi-row insert, and the node entries
    of a run one replacement per call. A ``replay`` (writes from the journal of a run that died, some
    perhaps already stored) skips rows already there."""
    events: list[NodeEvent] = []
    entries: dict[str, NodeEntry] = {}
    for write in writes:
        if isinstance(write, NodeEvent):
            events.append(write)
            continue
        if isinstance(write, NodeEntry):
            entries[write.call_id] = write  # only where the call is now matters
            continue
        _insert_events(session, events, replay)
        _replace_entries(session, entries)
        events, entries = [], {}
        if not (replay and _stored_already(session, write)):
            _apply_one(session, write)
    _insert_events(session, events, replay)
    _replace_entries(session, entries)


def _replace_entries(session: Session, entries: dict[str, NodeEntry]) -> None:
    if entries:
        session.execute(delete(NodeEntryRow).where(NodeEntryRow.call_id.in_(list(entries))))
        session.execute(insert(_NODE_ENTRIES), [dict(vars(entry)) for entry in entries.values()])


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
        case CallStarted(call=call):
            if session.get(Call, call.call_id) is None:
                session.add(
                    Call(
                        id=call.call_id,
                        caller=storable(call.caller),
                        dialled=storable(call.dialled),
                        started=call.started,
                        node=storable(write.node) if write.node else None,
                    )
                )
                session.flush()
        case CallEnded(call_id=call_id, ended=ended, disposition=disposition):
            session.execute(delete(NodeEntryRow).where(NodeEntryRow.call_id == call_id))
            row = session.get(Call, call_id)
            if row is None:
                log.warning("call %s ended but was never started; end not recorded", call_id)
            else:
                row.ended, row.disposition = ended, disposition
                session.flush()
        case SurveyAnswer():
            session.add(SurveyResponse(**asdict(write)))
            session.flush()
        case VoicemailLeft():
            fields = asdict(write) | {"caller": storable(write.caller), "mailbox": storable(write.mailbox)}
            session.add(Voicemail(**fields))
            session.flush()
        case NodeEvent():
            _insert_events(session, [write])
        case NodeEntry():
            _replace_entries(session, {write.call_id: write})
