"""Write-behind: every write a live call makes (node events, call start/end, survey answers, voicemails)
goes through one bounded in-memory queue that a background task drains in batches.

``submit`` never blocks and never raises for database trouble. With a journal
(``ivr_engine.storage.spool.WriteJournal``) each write is appended to it before it is queued, so a
killed service loses nothing it accepted: the next start replays what was not committed. The flusher
writes a batch when it is full or ``interval`` has passed, in submission order (a call's start is
written before its events and its end). Every failure is classified (``database.classify``): an outage
or an alarm (read-only, permission denied, a corrupt file: logged at ERROR) keeps the batch queued and
retries with back-off; only a batch with a bad row is written row by row, and each row the database
refuses as bad is logged at ERROR and kept in the dead letters (``deadletter.DeadLetters``) with the
reason, so one bad row never blocks the rest and no write is ever dropped in silence. A full queue
(``max_pending``) drops new writes and says so at ERROR.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING

from ivr_engine.storage.database import Database, ErrorKind, classify, describe_error
from ivr_engine.storage.writes import (
    CallEnded,
    CallStarted,
    SurveyAnswer,
    VoicemailLeft,
    Write,
    apply_writes,
    storable,
)

if TYPE_CHECKING:
    from ivr_engine.storage.deadletter import DeadLetters
    from ivr_engine.storage.spool import WriteJournal

__all__ = [  # the write types live in ``writes``; imported from here too
    "CallEnded",
    "CallStarted",
    "SurveyAnswer",
    "VoicemailLeft",
    "Write",
    "WriteBehind",
    "apply_writes",
    "storable",
]

log = logging.getLogger(__name__)


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
        journal: WriteJournal | None = None,
        dead_letters: DeadLetters | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._database = database
        self._journal = journal
        self._dead_letters = dead_letters
        self._clock = clock or (lambda: datetime.now(UTC))
        self._replayed = 0  # writes replayed from the journal and not yet written (they come first)
        self.batch_size = batch_size
        self.interval = interval
        self.max_pending = max_pending
        self.max_backoff = max_backoff
        self._pending: deque[Write] = deque()
        self._accepted = 0  # writes ever queued
        self._done = 0  # writes ever written or set aside as bad rows
        self._failures = 0  # failed attempts (outages and alarms)
        self._flush_target = 0  # a flush() waits until _done reaches this: write without delay
        self.dropped = 0
        self.dead_lettered = 0
        self.batches = 0
        self.last_error: ErrorKind | None = None
        """What the latest failed attempt was (None once a batch is written again)."""
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()
        self._progress = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def written(self) -> int:
        return self._done - self.dead_lettered

    def start(self) -> None:
        """Start the flusher, with any writes an earlier run left in the journal first in line."""
        if self._task is not None:
            return
        if self._journal is not None:
            try:
                replayed = self._journal.open()
            except OSError as exc:
                log.error("cannot open the write journal %s: %s; writes are kept in memory only",
                          self._journal.path, exc)
                self._journal = None
            else:
                if replayed:
                    self._pending.extendleft(reversed(replayed))
                    self._accepted += len(replayed)
                    self._replayed = len(replayed)
                    self._wake.set()
                    log.warning("%d write(s) left by an earlier run queued from %s", len(replayed),
                                self._journal.path)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="storage-write-behind")

    def submit(self, write: Write) -> None:
        """Journal and queue one write; never blocks. When the queue is full the write is dropped and
        logged."""
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error(
                    "write-behind queue full (%d pending, database unavailable?): %d write(s) dropped",
                    len(self._pending),
                    self.dropped,
                )
            return
        if self._journal is not None and self._journal.active:
            try:
                self._journal.append(write)
            except OSError as exc:
                self._journal_failed(exc)
        self._pending.append(write)
        self._accepted += 1
        self._wake.set()
        if len(self._pending) >= self.batch_size:
            self._urgent.set()

    def _journal_failed(self, exc: OSError) -> None:
        assert self._journal is not None
        log.error("the write journal %s failed (%s): writes from now on are kept in memory only",
                  self._journal.path, exc)
        self._journal.abandon()

    async def flush(self, *, urgent: bool = True) -> bool:
        """Wait until everything queued so far is written; False if the database failed meanwhile
        (the writes stay queued and are retried) or set a bad row aside (see the dead letters).

        ``urgent`` writes at once; otherwise the writes go with the next regular batch (within
        ``interval``): a call's end flushes its node log so, and calls ending together share a batch
        (a batch per ended call was a journal fsync, a transaction and two thread hops per call)."""
        if self._task is None or self._task.done():
            raise RuntimeError("write-behind is not running: start() it first")
        target, failures, dead = self._accepted, self._failures, self.dead_lettered
        if urgent:
            self._flush_target = max(self._flush_target, target)
            self._urgent.set()
        self._wake.set()
        task = self._task
        async with self._progress:
            await self._progress.wait_for(
                lambda: self._done >= target or self._failures > failures or task.done()
            )
        return self._done >= target and self.dead_lettered == dead

    async def close(self, grace: float = 5.0) -> None:
        """Flush what is queued (retrying an outage for up to ``grace`` s), then stop the flusher; what
        is left stays in the journal for the next start."""
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
        if self._journal is not None and self._journal.active:
            self._journal.close()
            if self._pending:
                log.error(
                    "storage closed with the database unavailable: %d queued write(s) kept in %s, "
                    "written after the next start",
                    self.pending,
                    self._journal.path,
                )
        elif self._pending:
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
            size = min(self.batch_size, self._replayed) if self._replayed else self.batch_size
            batch = list(islice(self._pending, size))
            if not batch:
                self._wake.clear()
                continue
            await self._sync_journal()
            ok = await self._write(batch, replay=self._replayed > 0)
            backoff = 0.0 if ok else min(self.max_backoff, max(0.1, backoff * 2))
            if not self._pending:
                self._wake.clear()

    async def _sync_journal(self) -> None:
        """fsync the journal before its writes go to the database (group commit, off the loop)."""
        if self._journal is not None and self._journal.active:
            try:
                await asyncio.to_thread(self._journal.sync)
            except OSError as exc:
                self._journal_failed(exc)

    async def _write(self, batch: list[Write], *, replay: bool) -> bool:
        try:
            await self._database.run(functools.partial(apply_writes, writes=batch, replay=replay))
        except Exception as exc:  # classified: nothing is ever dropped because of an error
            kind = classify(exc)
            if kind is not ErrorKind.BAD_ROW:
                self._failed(kind, exc)
                await self._notify()
                return False
            await self._write_one_by_one(batch, replay=replay)
            return True
        self.last_error = None
        self._finish(len(batch))
        await self._notify()
        return True

    def _failed(self, kind: ErrorKind, exc: BaseException) -> None:
        self._failures += 1
        changed = kind is not self.last_error
        self.last_error = kind
        if changed or self._failures % 20 == 0:
            level = logging.ERROR if kind is ErrorKind.ALARM else logging.WARNING
            what = "database refuses writes (operator action needed)" if kind is ErrorKind.ALARM \
                else "database unavailable"
            log.log(level, "%s, %d write(s) kept queued for retry: %s", what, len(self._pending),
                    describe_error(exc))

    async def _write_one_by_one(self, batch: list[Write], *, replay: bool) -> None:
        """A batch with a bad row: write each row alone; a row refused as bad goes to the dead letters."""
        for write in batch:
            try:
                await self._database.run(functools.partial(apply_writes, writes=[write], replay=replay))
            except Exception as exc:  # classified, as in _write
                kind = classify(exc)
                if kind is not ErrorKind.BAD_ROW:
                    self._failed(kind, exc)
                    break
                self._set_aside(write, exc)
            self._finish(1)
        await self._notify()

    def _set_aside(self, write: Write, exc: BaseException) -> None:
        self.dead_lettered += 1
        reason = describe_error(exc)
        if self._dead_letters is None:
            log.error("the database refused a %s as a bad row (%s), and there are no dead letters to keep "
                      "it in: %r", type(write).__name__, reason, write)
            return
        try:
            self._dead_letters.add(write, reason, self._clock())
        except OSError as err:
            log.error("the database refused a %s as a bad row (%s), and %s cannot be written (%s): %r",
                      type(write).__name__, reason, self._dead_letters.path, err, write)
            return
        log.error("the database refused a %s as a bad row (%s): kept in %s", type(write).__name__, reason,
                  self._dead_letters.path)

    def _finish(self, count: int) -> None:
        for _ in range(count):
            self._pending.popleft()
        self._done += count
        self.batches += 1
        self._replayed = max(0, self._replayed - count)
        if self._journal is not None and self._journal.active:
            try:
                self._journal.committed(count, self._pending)
            except OSError as exc:
                self._journal_failed(exc)

    async def _notify(self) -> None:
        async with self._progress:
            self._progress.notify_all()


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
