"""The write journal: every accepted write is on disk before the database has it, and what was not
committed (a close during an outage, a killed service) is written after the next start, once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr_engine.config import Settings
from ivr_engine.flow.ports import CallRecord, NodeEvent
from ivr_engine.storage import Database, open_stores
from ivr_engine.storage.migrate import upgrade
from ivr_engine.storage.models import SurveyResponse, Voicemail
from ivr_engine.storage.queries import call_detail
from ivr_engine.storage.spool import WriteJournal, decode_write, encode_write, spool_for
from ivr_engine.storage.writer import CallEnded, CallStarted, SurveyAnswer, VoicemailLeft, Write, WriteBehind

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _event(call_id: str, seq: int) -> NodeEvent:
    entered = T0 + timedelta(seconds=seq)
    return NodeEvent(call_id, seq, "balance", f"n{seq}", "gather", entered, entered + timedelta(seconds=1),
                     "****" if seq == 2 else None, "next")  # fmt: skip


EVERY_KIND: list[Write] = [
    CallStarted(CallRecord("c1", "15550001001", "101", T0)),
    _event("c1", 1),
    _event("c1", 2),
    SurveyAnswer("c1", "post_call", "agent", 5, "1003", T0 + timedelta(seconds=9)),
    SurveyAnswer("c1", "post_call", "resolved", 4, None, T0 + timedelta(seconds=10)),
    VoicemailLeft("c1", "Zoë \u263a", "general", "/spool/vm/c1.wav", 7.25, T0 + timedelta(seconds=20)),
    CallEnded("c1", T0 + timedelta(seconds=30), "caller_hangup"),
    CallStarted(CallRecord("c2", "15550001002", "100", T0), node="node2"),
]


def test_every_kind_of_write_comes_back_equal() -> None:
    assert [decode_write(encode_write(write)) for write in EVERY_KIND] == EVERY_KIND


def test_appended_writes_come_back_after_the_last_commit_mark_and_a_damaged_line_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = WriteJournal(tmp_path / "spool" / "writes.jsonl")
    assert journal.open() == []
    for write in EVERY_KIND:
        journal.append(write)
    journal.committed(2, EVERY_KIND[2:])
    journal.sync()
    with journal.path.open("a") as out:  # what a crash could leave, plus garbage
        out.write('{"kind": "Nonsense"}\nnot json\n')
    with caplog.at_level(logging.ERROR, logger="ivr_engine.storage.spool"):
        assert WriteJournal(journal.path).load() == EVERY_KIND[2:]
    assert caplog.text.count("not a journalled write") == 2
    journal.committed(len(EVERY_KIND) - 2, [])
    assert journal.path.stat().st_size == 0  # all committed: emptied
    journal.close()
    assert not journal.path.exists()


def test_a_journal_is_0600_and_reopening_keeps_only_the_uncommitted_writes(tmp_path: Path) -> None:
    journal = WriteJournal(tmp_path / "spool" / "writes.jsonl")
    journal.open()
    for write in EVERY_KIND:
        journal.append(write)
    journal.committed(3, EVERY_KIND[3:])
    journal.close()  # as a kill would leave it: closing writes no mark
    again = WriteJournal(journal.path)
    assert again.open() == EVERY_KIND[3:]
    assert (journal.path.stat().st_mode & 0o777) == 0o600
    assert journal.path.read_text().count("\n") == len(EVERY_KIND[3:])  # rewritten: only what is pending
    again.close()


def test_a_journal_in_use_cannot_be_opened_by_a_second_writer(tmp_path: Path) -> None:
    first = WriteJournal(tmp_path / "writes.jsonl")
    first.open()
    first.append(EVERY_KIND[0])
    second = WriteJournal(first.path)
    with pytest.raises(OSError, match="in use by another process"):
        second.open()
    second.close()
    assert first.path.exists()
    first.append(EVERY_KIND[1])
    assert WriteJournal(first.path).load() == EVERY_KIND[:2]  # untouched by the second
    first.close()
    assert second.open() == EVERY_KIND[:2]  # free again
    second.close()


def test_a_growing_journal_is_compacted_to_its_pending_writes(tmp_path: Path) -> None:
    journal = WriteJournal(tmp_path / "writes.jsonl", compact_bytes=2000)
    journal.open()
    writes = [_event("c9", seq) for seq in range(40)]
    for write in writes:
        journal.append(write)
    journal.committed(30, writes[30:])
    assert WriteJournal(journal.path).load() == writes[30:]
    assert journal.path.read_text().count("\n") == 10
    journal.close()


def test_each_database_has_its_own_spool(tmp_path: Path) -> None:
    sqlite = Database(f"sqlite:///{tmp_path / 'a.db'}")
    other = Database(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        assert spool_for(tmp_path, sqlite.url).path != spool_for(tmp_path, other.url).path
        assert spool_for(tmp_path, sqlite.url).path == spool_for(tmp_path, sqlite.url).path
    finally:
        sqlite.dispose()
        other.dispose()


async def test_writes_journalled_during_an_outage_are_stored_after_the_next_start(
    db_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The database has no schema yet: every write is refused as an outage until it is migrated."""
    with caplog.at_level(logging.WARNING, logger="ivr_engine.storage"):
        async with open_stores(db_settings, close_grace=0.3) as stores:
            await stores.calls.call_started(CallRecord("c1", "15550001001", "101", T0))
            for seq in range(1, 6):
                stores.node_log.record(_event("c1", seq))
            await stores.calls.call_ended("c1", T0 + timedelta(seconds=30), "completed")
            assert await stores.writer.flush() is False
            journal = spool_for(db_settings.state_dir, stores.database.url)
            assert len(journal.load()) == 7  # on disk before the close
    assert "7 queued write(s) kept in" in caplog.text
    assert len(journal.load()) == 7

    database = Database(db_settings.db_url)
    try:
        upgrade(database)
        async with open_stores(db_settings) as stores:
            assert stores.writer.pending == 7  # the journalled writes are first in line
            stores.node_log.record(_event("c2", 1))
            assert await stores.writer.flush() is True
        detail = database.call(lambda session: call_detail(session, "c1"))
    finally:
        database.dispose()
    assert detail is not None
    assert detail.call.disposition == "completed"
    assert [step.seq for step in detail.path] == [1, 2, 3, 4, 5]
    assert not journal.path.exists()
    assert "7 write(s) left by an earlier run queued from" in caplog.text


async def test_a_replay_of_writes_already_stored_stores_them_once(migrated_settings: Settings) -> None:
    """Killed between a commit and its mark: the batch is replayed, and nothing appears twice."""
    async with open_stores(migrated_settings) as stores:
        for write in EVERY_KIND:
            stores.writer.submit(write)
        assert await stores.writer.flush() is True
    journal = spool_for(migrated_settings.state_dir, Database(migrated_settings.db_url).url)
    journal.open()
    for write in EVERY_KIND:  # as if the commit marks had not been written
        journal.append(write)
    journal.close()
    async with open_stores(migrated_settings) as stores:
        assert stores.writer.pending == len(EVERY_KIND)
        assert await stores.writer.flush() is True
        detail = await stores.database.run(lambda session: call_detail(session, "c1"))
        surveys = await stores.database.run(
            lambda session: session.scalars(select(SurveyResponse)).all())
        voicemails = await stores.database.run(lambda session: session.scalars(select(Voicemail)).all())
    assert detail is not None
    assert [step.seq for step in detail.path] == [1, 2]
    assert len(surveys) == 2
    assert len(voicemails) == 1


async def test_without_a_journal_closing_during_an_outage_says_what_was_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = Database("postgresql+psycopg://postgres@127.0.0.1:1/test")
    writer = WriteBehind(database, interval=0.01)
    writer.start()
    with caplog.at_level(logging.ERROR, logger="ivr_engine.storage.writer"):
        for seq in range(5):
            writer.submit(_event("call-lost", seq))
        assert await writer.flush() is False
        await writer.close(grace=0.3)
    database.dispose()
    assert "5 queued write(s) lost" in caplog.text


def test_journal_lines_are_ascii_and_odd_caller_ids_survive_a_reload(tmp_path: Path) -> None:
    """Lines come from orjson when it can write them in ASCII; a caller id with a line separator or a lone
    surrogate takes json's escapes, so a journal read back line by line keeps every write whole."""
    odd = [CallStarted(CallRecord(f"c{n}", caller, "100", T0 + timedelta(microseconds=n)))
           for n, caller in enumerate(("1000", "Zo\u00eb", "a\u2028b", "c\x85d", "e\ud800f"))]  # fmt: skip
    lines = [encode_write(write) for write in [*EVERY_KIND, *odd]]
    assert all(line.isascii() and "\n" not in line for line in lines)
    assert '"entered":"2026-11-20T09:30:01+00:00"' in lines[1]  # orjson's, ISO 8601 as isoformat writes it
    journal = WriteJournal(tmp_path / "spool.jsonl")
    journal.open()
    for write in [*EVERY_KIND, *odd]:
        journal.append(write)
    journal.close()
    assert WriteJournal(tmp_path / "spool.jsonl").load() == [*EVERY_KIND, *odd]
