"""The flow ports (node log, calls, surveys, voicemails) as thin adapters over the write-behind queue.

None of them waits for the database: each queues a write and returns. ``SqlNodeLog.flush`` is the one
place a caller waits, at call end, so nothing is lost on hang-up.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ivr_engine.channel import Recording
from ivr_engine.flow.ports import CallRecord, Clock, NodeEntry, NodeEvent
from ivr_engine.storage.errors import InvalidRecord
from ivr_engine.storage.writer import CallEnded, CallStarted, SurveyAnswer, VoicemailLeft, WriteBehind

__all__ = ["SqlCallStore", "SqlNodeLog", "SqlSurveyStore", "SqlVoicemailStore"]


class SqlNodeLog:
    """``NodeEventSink``: ``record`` queues the event; ``flush`` waits until it is written (``urgent``:
    in a batch of its own at once; else in the queue's next regular batch)."""

    def __init__(self, writer: WriteBehind) -> None:
        self._writer = writer

    def entered(self, entry: NodeEntry) -> None:
        self._writer.submit(entry)

    def record(self, event: NodeEvent) -> None:
        self._writer.submit(event)

    async def flush(self, *, urgent: bool = True) -> None:
        await self._writer.flush(urgent=urgent)


class SqlCallStore:
    """``CallStore``: a call row from start (disposition ``in_progress``) to its end."""

    def __init__(self, writer: WriteBehind, node: str | None = None) -> None:
        self._writer = writer
        self._node = node or None

    async def call_started(self, call: CallRecord) -> None:
        self._writer.submit(CallStarted(call, self._node))

    async def call_ended(self, call_id: str, ended: datetime, disposition: str) -> None:
        self._writer.submit(CallEnded(call_id, ended, disposition))


class _WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SqlSurveyStore:
    """``SurveyStore``: answers stamped with the service's clock."""

    def __init__(self, writer: WriteBehind, clock: Clock | None = None) -> None:
        self._writer = writer
        self._clock = clock or _WallClock()

    async def save_answer(
        self, *, call_id: str, survey: str, question: str, score: int, agent_id: str | None
    ) -> None:
        if not 1 <= score <= 5:
            raise InvalidRecord(f"survey {survey!r} question {question!r}: score {score} is not 1-5")
        self._writer.submit(SurveyAnswer(call_id, survey, question, score, agent_id, self._clock.now()))


class SqlVoicemailStore:
    """``VoicemailStore``: messages stamped with the service's clock."""

    def __init__(self, writer: WriteBehind, clock: Clock | None = None) -> None:
        self._writer = writer
        self._clock = clock or _WallClock()

    async def save_voicemail(
        self, *, call_id: str, caller: str, mailbox: str, recording: Recording
    ) -> None:
        self._writer.submit(
            VoicemailLeft(call_id, caller, mailbox, recording.path, recording.duration, self._clock.now())
        )
