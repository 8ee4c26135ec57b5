"""The voicemail inbox on SQLite and PostgreSQL: listed with caller, flow and state, the IVR path before
the message, heard, closed once, turned into a callback or a work order; and ``ivr voicemail``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.records.rows import CallbackRow
from cli import main
from ivr_engine.config import Settings
from ivr_engine.storage import Database
from ivr_engine.storage.models import NodeEventRow, Voicemail
from ivr_engine.storage.pins import Pins
from ivr_engine.storage.seed import seed
from ivr_engine.voicemail import inbox
from ivr_engine.voicemail.errors import NoSuchVoicemail, VoicemailError
from ivr_engine.voicemail.model import Outcome, VoicemailState
from ivr_engine.workorders.policy import DEFAULT_POLICY

T0 = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
ALICE = "15550001001"


def leave(session: Session, call_id: str, caller: str, at: datetime, path: Path) -> int:
    steps = [("main", "identify", "lookup", None, "found"), ("main", "main_menu", "menu", "4", "voicemail"),
             ("voicemail", "intro", "play", None, "next"), ("voicemail", "record_message", "record", "6.0s",
                                                             "recorded"),
             ("voicemail", "saved", "play", None, "next")]
    for seq, (flow, node, kind, given, outcome) in enumerate(steps, 1):
        session.add(NodeEventRow(call_id=call_id, seq=seq, flow=flow, node=node, node_type=kind,
                                 entered=at, left=at + timedelta(seconds=1), input=given, outcome=outcome))
    row = Voicemail(call_id=call_id, caller=caller, mailbox="general", file_path=str(path), duration=6.0,
                    created=at)
    session.add(row)
    session.flush()
    return row.id


@pytest.fixture
def db(migrated_settings: Settings, pins: Pins) -> Iterator[Callable[[Callable[[Session], Any]], Any]]:
    database = Database(migrated_settings.db_url)
    database.call(lambda session: seed(session, pins))
    yield database.call
    database.dispose()


def test_the_inbox_lists_open_messages_newest_first_with_caller_and_flow(db: Callable[..., Any],
                                                                         tmp_path: Path) -> None:
    first = db(lambda s: leave(s, "c1", ALICE, T0, tmp_path / "c1.wav"))
    second = db(lambda s: leave(s, "c2", "15559990000", T0 + timedelta(minutes=5), tmp_path / "c2.wav"))
    items = db(lambda s: inbox.list_voicemails(s, inbox.InboxFilter()))
    assert [(i.id, i.flow, i.state) for i in items] == [(second, "voicemail", VoicemailState.NEW),
                                                         (first, "voicemail", VoicemailState.NEW)]
    assert items[1].customer_name  # Alice is on record
    assert items[0].customer_name == ""
    shown = db(lambda s: inbox.detail(s, first))
    assert [(p.node, p.input) for p in shown.path] == [
        ("identify", None), ("main_menu", "4"), ("intro", None), ("record_message", "6.0s")]  # not after it


def test_heard_closed_and_filtered(db: Callable[..., Any], tmp_path: Path) -> None:
    first = db(lambda s: leave(s, "c1", ALICE, T0, tmp_path / "c1.wav"))
    second = db(lambda s: leave(s, "c2", ALICE, T0, tmp_path / "c2.wav"))
    assert db(lambda s: inbox.mark_heard(s, first)).state is VoicemailState.HEARD
    closed = db(lambda s: inbox.close(s, second, "sup", T0 + timedelta(hours=1)))
    assert (closed.state, closed.closed_by, closed.outcome) == (VoicemailState.CLOSED, "sup", Outcome.HANDLED)
    with pytest.raises(VoicemailError, match="closed already"):
        db(lambda s: inbox.close(s, second, "sup", T0))

    def ids(**kw: Any) -> list[int]:
        return [i.id for i in db(lambda s: inbox.list_voicemails(s, inbox.InboxFilter(**kw)))]

    assert ids() == [first]
    assert ids(include_closed=True) == [second, first]
    assert ids(state=VoicemailState.CLOSED) == [second]
    assert ids(state=VoicemailState.NEW) == []
    assert ids(mailbox="sales") == []
    with pytest.raises(NoSuchVoicemail):
        db(lambda s: inbox.mark_heard(s, 999))


def test_a_message_becomes_a_callback_or_a_work_order(db: Callable[..., Any], tmp_path: Path) -> None:
    first = db(lambda s: leave(s, "c1", ALICE, T0, tmp_path / "c1.wav"))
    second = db(lambda s: leave(s, "c2", ALICE, T0, tmp_path / "c2.wav"))
    withheld = db(lambda s: leave(s, "c3", "", T0, tmp_path / "c3.wav"))
    booked = db(lambda s: inbox.to_callback(s, first, "general", "sup", T0))
    assert booked.outcome is Outcome.CALLBACK
    callbacks = db(lambda s: [(r.call_id, r.number, r.queue, r.status)
                              for r in s.scalars(select(CallbackRow))])
    assert callbacks == [("c1", ALICE, "general", "pending")]
    with pytest.raises(VoicemailError, match="no number to call back"):
        db(lambda s: inbox.to_callback(s, withheld, "general", "sup", T0))
    item, order = db(lambda s: inbox.to_work_order(
        s, second, DEFAULT_POLICY, kind="complaint", description="parcel broken", by="sup", now=T0,
        zone=ZoneInfo("America/New_York")))  # fmt: skip
    assert (item.outcome, item.work_order) == (Outcome.WORK_ORDER, order.serial)
    assert (order.call_id, order.phone, order.customer_id is not None) == ("c2", ALICE, True)


def test_the_cli(tmp_path: Path) -> None:
    state = tmp_path / "state"

    def ivr(*args: str) -> Any:
        return CliRunner().invoke(main, ["--state-dir", str(state), *args], catch_exceptions=False, env={
            "IVR_DATABASE_URL": None, "IVR_CONFIG": None, "IVR_CLOCK_START": "2026-12-03T10:00:00-05:00",
            "IVR_CLOCK_ANCHOR": None, "IVR_TIMEZONE": "America/New_York"})

    assert ivr("db", "init").exit_code == 0
    assert ivr("db", "seed").exit_code == 0
    audio = tmp_path / "c1.wav"
    audio.write_bytes(b"RIFF")
    database = Database(Settings(state_dir=state).db_url)
    vm = database.call(lambda s: leave(s, "c1", ALICE, T0, audio))
    database.dispose()
    listed = ivr("voicemail", "list")
    header, row = listed.output.splitlines()
    assert header.split()[:3] == ["ID", "LEFT", "CALLER"]
    assert "2026-12-03 10:00" in row  # the centre's time
    assert row.index("voicemail") == header.index("FLOW")
    played = ivr("voicemail", "play", str(vm))
    assert played.output.strip() == str(audio)
    assert json.loads(ivr("voicemail", "show", str(vm), "--json").output)["state"] == "heard"
    ticket = ivr("voicemail", "ticket", str(vm), "--type", "complaint", "--description", "broken",
                 "--by", "sup")
    assert ticket.exit_code == 0, ticket.output
    assert "work order WO-20261203-0001 logged; closed" in ticket.output
    again = ivr("voicemail", "close", str(vm))
    assert again.exit_code == 1
    assert "closed already" in again.output
    missing = ivr("voicemail", "show", "999").output.strip()
    assert missing == "Error: no voicemail 999 (see `ivr voicemail list`)"
