"""``call_detail`` never shows an ended call with part of its path: the write-behind queue commits a
call's start, events and end while readers (``ivr calls show``, the screen-pop, tests) poll."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from ivr_engine.config import Settings
from ivr_engine.flow.ports import CallRecord, NodeEvent
from ivr_engine.storage import Database
from ivr_engine.storage.queries import CallDetail, call_detail
from ivr_engine.storage.writer import CallEnded, CallStarted, Write, apply_writes

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _whole_call(call_id: str, nodes: int) -> list[Write]:
    events: list[Write] = [
        NodeEvent(call_id, seq, "balance", f"n{seq}", "play", T0 + timedelta(seconds=seq),
                  T0 + timedelta(seconds=seq + 1), None, "next")
        for seq in range(1, nodes + 1)
    ]  # fmt: skip
    started = CallStarted(CallRecord(call_id=call_id, caller="15550001001", dialled="101", started=T0))
    return [started, *events, CallEnded(call_id, T0 + timedelta(seconds=nodes + 1), "caller_hangup")]


def _read_while_committing(
    settings: Settings, writes: list[Write], after_statement: int
) -> CallDetail | None:
    """``call_detail`` with ``writes`` committed by another connection right after the reader's
    ``after_statement``-th statement on the call tables."""
    writer, reader = Database(settings.db_url), Database(settings.db_url)
    seen = 0

    def commit_between(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal seen
        if "calls" in statement or "node_events" in statement:
            seen += 1
            if seen == after_statement:
                writer.call(lambda session: apply_writes(session, writes))

    hook: Callable[..., None] = commit_between
    event.listen(reader.engine, "after_cursor_execute", hook)
    try:
        return reader.call(lambda session: call_detail(session, "c1"))
    finally:
        writer.dispose()
        reader.dispose()


def test_a_call_committed_while_reading_comes_whole(migrated_settings: Settings) -> None:
    detail = _read_while_committing(migrated_settings, _whole_call("c1", 3), after_statement=1)
    assert detail is not None
    assert detail.call.disposition == "caller_hangup", detail.call
    assert [step.node for step in detail.path] == ["n1", "n2", "n3"], detail.path
    assert detail.call.nodes == 3


@pytest.mark.parametrize("after", [2, 3])
def test_a_call_committed_after_the_reader_looked_is_not_there_yet(
    migrated_settings: Settings, after: int
) -> None:
    assert _read_while_committing(migrated_settings, _whole_call("c1", 3), after) is None


def test_events_without_a_call_row_are_shown_as_unknown(migrated_settings: Settings) -> None:
    database = Database(migrated_settings.db_url)
    try:
        assert database.call(lambda session: call_detail(session, "c1")) is None
        database.call(lambda session: apply_writes(session, _whole_call("c1", 2)[1:-1]))
        detail = database.call(lambda session: call_detail(session, "c1"))
    finally:
        database.dispose()
    assert detail is not None
    assert detail.call.disposition == "unknown"
    assert [step.seq for step in detail.path] == [1, 2]
