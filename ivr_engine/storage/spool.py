"""The write journal: every write the service acknowledges is on disk before the database has it.

``WriteBehind.submit`` appends each write as one JSON line to the journal (``os.write`` on a file opened
``O_APPEND``, 0600) before queueing it, so a service killed at any moment (``kill -9``) leaves every
acknowledged write in the file: the kernel has it. The flusher ``sync``s the file (``fsync``, in a worker
thread) before each batch it writes, and at every ``flush`` and close, so a machine that loses power
loses at most the writes of the last flush interval. After each batch is committed a mark
``{"committed": N}`` (N writes of the file are in the database) is appended; once everything is
committed the file is emptied. A journal that grows past ``compact_bytes`` while writes are pending (a
long outage) is rewritten with only the pending writes.

``open`` reads what an earlier run left: the writes after the last mark are replayed first. A service
killed between a commit and its mark replays that batch: replays are written idempotently (see
``writes.apply_writes(replay=True)``). One journal per database URL, so writes never land in another
database, and one process per journal: ``open`` takes an exclusive lock (``<journal>.lock``), so a second
service on the same state folder and database cannot replay or rewrite it under the first.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import URL

from ivr_engine.privatefiles import PRIVATE_FILE, write_private
from ivr_engine.storage.codec import decode_write, encode_write
from ivr_engine.storage.writes import Write

__all__ = ["WriteJournal", "decode_write", "encode_write", "spool_for"]

log = logging.getLogger(__name__)

class WriteJournal:
    """The journal file at ``path``; see the module docstring. Not thread-safe except ``sync``."""

    def __init__(self, path: Path, *, compact_bytes: int = 16 * 1024 * 1024) -> None:
        self.path = path
        self.compact_bytes = compact_bytes
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self._lines = 0  # writes in the file
        self._committed = 0  # of which this many are in the database
        self._size = 0
        self._dirty = False

    @property
    def uncommitted(self) -> int:
        return self._lines - self._committed

    def load(self) -> list[Write]:
        """The writes an earlier run left uncommitted, in order ([] without a file); a damaged line is
        logged and skipped. Reads only: ``open`` starts a journal."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        writes: list[Write] = []
        committed = 0
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if isinstance(data, dict) and set(data) == {"committed"}:
                    committed = max(committed, int(data["committed"]))
                    continue
                writes.append(decode_write(line))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("%s:%d: not a journalled write, skipped (%s)", self.path, number, exc)
        return writes[committed:]

    def open(self) -> list[Write]:
        """Start the journal: what an earlier run left uncommitted (returned, to be replayed first)
        becomes the file's only content; OSError if the file cannot be written."""
        self.close()
        self._lock()
        left = self.load()
        self.rewrite(left)
        return left

    def _lock(self) -> None:
        lock = self.path.with_name(self.path.name + ".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise OSError(f"{self.path} is in use by another process ({exc.strerror})") from exc
        self._lock_fd = fd

    def rewrite(self, pending: Sequence[Write]) -> None:
        """Replace the file (atomically, fsync'd) with ``pending``, all uncommitted."""
        text = "".join(encode_write(write) + "\n" for write in pending)
        write_private(self.path, text)
        self._reopen()
        self._lines, self._committed, self._size = len(pending), 0, len(text.encode())

    def _reopen(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)

    def append(self, write: Write) -> None:
        """Put ``write`` in the file (in the kernel: safe from a killed process); OSError if not."""
        self._append((encode_write(write) + "\n").encode())
        self._lines += 1

    def _append(self, data: bytes) -> None:
        if self._fd is None:
            raise OSError(f"the write journal {self.path} is not open")
        written = os.write(self._fd, data)
        if written != len(data):
            raise OSError(f"short write to {self.path} ({written} of {len(data)} bytes)")
        self._size += written
        self._dirty = True

    def committed(self, count: int, pending: Sequence[Write]) -> None:
        """The first ``count`` uncommitted writes are in the database (``pending`` is what is left)."""
        self._committed = min(self._lines, self._committed + count)
        if self._fd is None:
            return
        if self._committed >= self._lines:
            os.ftruncate(self._fd, 0)
            self._lines = self._committed = self._size = 0
        elif self._size > self.compact_bytes and len(pending) == self.uncommitted:
            self.rewrite(pending)
        else:
            self._append(json.dumps({"committed": self._committed}).encode() + b"\n")

    def sync(self) -> None:
        """fsync what was appended (blocking: run it in a worker thread)."""
        if self._fd is not None and self._dirty:
            self._dirty = False
            os.fsync(self._fd)

    def abandon(self) -> None:
        """Stop journalling after a failed append (the file is left as it is: its replay is safe)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        self._lines = self._committed = 0

    @property
    def active(self) -> bool:
        return self._fd is not None

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
        if self._lock_fd is not None:  # only the journal's owner may remove it
            if self._lines == 0 and self.path.exists() and self.path.stat().st_size == 0:
                self.path.unlink(missing_ok=True)
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None


def spool_for(state_dir: Path, url: URL) -> WriteJournal:
    """The journal of the database at ``url`` in ``state_dir``/spool (named by a hash of the URL)."""
    key = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:12]
    return WriteJournal(state_dir / "spool" / f"writes-{url.get_backend_name()}-{key}.jsonl")
