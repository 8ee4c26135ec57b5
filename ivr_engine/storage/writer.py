"""Write-behind: every write a live call makes (node events, call start/end, survey answers, voicemails)
goes through one bounded in-memory queue that a background task drains in batches.

``submit`` never blocks and never raises for database trouble. The flusher writes a batch when it is
full or ``interval`` has passed, in submission order (a call's start is written before its events and
its end). During an outage batches stay queued and are retried with back-off; a full queue drops new
writes and says so in the log. A row the database refuses as bad data is logged and skipped, so one bad
row never blocks the rest. Writes still queued when the queue closes go to the on-disk spool, if it has
one (``ivr_engine.storage.spool``), and are written after the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING

from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ivr_engine.flow.ports import CallRecord, NodeEvent
from ivr_engine.storage.database import Database, describe_error, is_outage
from ivr_engine.storage.models import Call, NodeEventRow, SurveyResponse, Voicemail, spent_ms

if TYPE_CHECKING:
    from ivr_engine.storage.spool import WriteSpool

__all__ = ["CallEnded", "CallStarted", "SurveyAnswer", "VoicemailLeft", "Write", "WriteBehind", "storable"]

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


Write = NodeEvent | CallStarted | CallEnded | SurveyAnswer | VoicemailLeft


_SHORT_TEXT = 64  # calls.caller/dialled and voicemails.caller/mailbox are VARCHAR(64)


def storable(text: str, limit: int = _SHORT_TEXT) -> str:
    """``text`` as every database stores it: NUL dropped, lone surrogates as ``?``, cut to ``limit``.

    Caller ids come from the network; a row PostgreSQL refuses would lose the whole call record.
    """
    return text.replace("\0", "").encode("utf-8", "replace").decode("utf-8")[:limit]


def apply_writes(session: Session, writes: Sequence[Write]) -> None:
    """Apply ``writes`` in order; runs of node events become one multi-row insert."""
    events: list[NodeEvent] = []
    for write in writes:
        if isinstance(write, NodeEvent):
            events.append(write)
            continue
        _insert_events(session, events)
        events = []
        _apply_one(session, write)
    _insert_events(session, events)


def _insert_events(session: Session, events: list[NodeEvent]) -> None:
    if events:
        rows = [{**asdict(event), "spent_ms": spent_ms(event.entered, event.left)} for event in events]
        session.execute(insert(NodeEventRow), rows)


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


class WriteBehind:
    """The bounded write-behind queue and its background flusher (``start`` it inside a running loop)."""

    def __init__(
        self,
        database: Database,
        *,
        batch_size: int = 200,
        interval: float = 0.25,
        max_pending: int = 100_000,
        max_backoff: float = 5.0,
        spool: WriteSpool | None = None,
    ) -> None:
        self._database = database
        self._spool = spool
        self._spooled = 0  # writes loaded from the spool and not yet written (they come first)
        self.batch_size = batch_size
        self.interval = interval
        self.max_pending = max_pending
        self.max_backoff = max_backoff
        self._pending: deque[Write] = deque()
        self._accepted = 0  # writes ever queued
        self._done = 0  # writes ever written or skipped as bad
        self._failures = 0  # failed attempts (outages)
        self._flush_target = 0  # a flush() waits until _done reaches this: write without delay
        self.dropped = 0
        self.skipped = 0
        self.batches = 0
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()
        self._progress = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def written(self) -> int:
        return self._done - self.skipped

    def start(self) -> None:
        """Start the flusher, with any writes an earlier run left in the spool first in line."""
        if self._task is not None:
            return
        if self._spool is not None and (spooled := self._spool.load()):
            self._pending.extendleft(reversed(spooled))
            self._accepted += len(spooled)
            self._spooled = len(spooled)
            self._wake.set()
            log.warning("%d write(s) left by an earlier run queued from %s", len(spooled), self._spool.path)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="storage-write-behind")

    def submit(self, write: Write) -> None:
        """Queue one write; never blocks. When the queue is full the write is dropped and logged."""
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error(
                    "write-behind queue full (%d pending, database unavailable?): %d write(s) dropped",
                    len(self._pending),
                    self.dropped,
                )
            return
        self._pending.append(write)
        self._accepted += 1
        self._wake.set()
        if len(self._pending) >= self.batch_size:
            self._urgent.set()

    async def flush(self) -> bool:
        """Wait until everything queued so far is written; False if the database failed meanwhile
        (the writes stay queued and are retried)."""
        if self._task is None or self._task.done():
            raise RuntimeError("write-behind is not running: start() it first")
        target, failures = self._accepted, self._failures
        self._flush_target = max(self._flush_target, target)
        self._urgent.set()
        self._wake.set()
        task = self._task
        async with self._progress:
            await self._progress.wait_for(
                lambda: self._done >= target or self._failures > failures or task.done()
            )
        return self._done >= target

    async def close(self, grace: float = 5.0) -> None:
        """Flush what is queued (retrying an outage for up to ``grace`` s), then stop the flusher."""
        if self._task is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self._pending and not self._task.done() and loop.time() < deadline:
            if not await self.flush():
                await asyncio.sleep(min(0.2, max(0.0, deadline - loop.time())))
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._pending:
            self._save_pending()

    def _save_pending(self) -> None:
        if self._spool is not None:
            try:
                self._spool.save(list(self._pending))
            except OSError as exc:
                log.error("cannot spool queued writes to %s: %s", self._spool.path, exc)
            else:
                log.error(
                    "storage closed with the database unavailable: %d queued write(s) saved to %s, "
                    "written after the next start",
                    self.pending,
                    self._spool.path,
                )
                return
        log.error("storage closed; %d queued write(s) lost (database unavailable)", self.pending)

    async def _run(self) -> None:
        backoff = 0.0
        while True:
            await self._wake.wait()
            hurry = self._done < self._flush_target or len(self._pending) >= self.batch_size
            if backoff:
                await _wait(self._urgent, backoff)
            elif not hurry:
                await _wait(self._urgent, self.interval)
            self._urgent.clear()
            batch = list(islice(self._pending, self.batch_size))
            if not batch:
                self._wake.clear()
                continue
            ok = await self._write(batch)
            backoff = 0.0 if ok else min(self.max_backoff, max(0.1, backoff * 2))
            if not self._pending:
                self._wake.clear()

    async def _write(self, batch: list[Write]) -> bool:
        try:
            await self._database.run(lambda session: apply_writes(session, batch))
        except SQLAlchemyError as exc:
            if is_outage(exc):
                self._failures += 1
                if self._failures == 1 or self._failures % 20 == 0:
                    log.warning(
                        "database unavailable, %d write(s) queued for retry: %s",
                        len(self._pending),
                        describe_error(exc),
                    )
                await self._notify()
                return False
            await self._write_one_by_one(batch)
            return True
        self._finish(len(batch))
        await self._notify()
        return True

    async def _write_one_by_one(self, batch: list[Write]) -> None:
        """A batch with bad data: write each row alone and skip those the database refuses."""
        for write in batch:
            try:
                await self._database.run(functools.partial(apply_writes, writes=[write]))
            except SQLAlchemyError as exc:
                if is_outage(exc):
                    self._failures += 1
                    break
                self.skipped += 1
                log.error("skipped a %s the database refused: %s", type(write).__name__, describe_error(exc))
            self._finish(1)
        await self._notify()

    def _finish(self, count: int) -> None:
        for _ in range(count):
            self._pending.popleft()
        self._done += count
        self.batches += 1
        if self._spooled and self._done >= self._spooled and self._spool is not None:
            self._spooled = 0
            try:
                self._spool.clear()
            except OSError as exc:
                log.error("spooled writes stored, but %s cannot be removed: %s", self._spool.path, exc)

    async def _notify(self) -> None:
        async with self._progress:
            self._progress.notify_all()


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
