"""Size-bounded, private log files: ``ivr serve --log-file`` and ``<state_dir>/events.jsonl``.

A log file is created 0600 (see :mod:`ivr_engine.privatefiles`) and rotated when the next line would
take it past ``max_bytes``: ``serve.log`` becomes ``serve.log.1``, ``.1`` becomes ``.2`` and so on,
and the oldest beyond ``backups`` is deleted, so at most ``(backups + 1) * max_bytes`` stay on disk.
Rotation renames, so every backup keeps its private mode.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import time
from dataclasses import dataclass
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler
from pathlib import Path

from ivr_engine.config import ConfigError, Settings
from ivr_engine.privatefiles import PRIVATE_FILE, private_opener

__all__ = [
    "DEFAULT_ROTATION",
    "PrivateRotatingFileHandler",
    "Rotation",
    "SecondFormatter",
    "lean_records",
    "log_to_file",
    "rotate_if_over",
]

_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


@dataclass(frozen=True)
class Rotation:
    """How big a log may grow before it is rotated, and how many rotated files are kept."""

    max_bytes: int = 10_000_000
    backups: int = 5

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.backups < 1:
            raise ConfigError(
                f"settings 'log_max_bytes' and 'log_backups' must be at least 1 "
                f"(got {self.max_bytes} and {self.backups})"
            )

    @classmethod
    def of(cls, settings: Settings) -> Rotation:
        """The rotation the settings ask for; ``ConfigError`` naming the setting when it is unusable."""
        return cls(max_bytes=settings.log_max_bytes, backups=settings.log_backups)


DEFAULT_ROTATION = Rotation()


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A ``RotatingFileHandler`` whose files are created with ``mode`` (0600), never chmod'ed later.

    With ``raise_errors`` a write that fails raises ``OSError`` to the caller instead of logging's
    usual traceback on stderr (the event log reports it as a log line of its own).
    """

    def __init__(
        self, path: Path, rotation: Rotation = DEFAULT_ROTATION, *, mode: int = PRIVATE_FILE,
        raise_errors: bool = False,
    ) -> None:  # fmt: skip
        self.file_mode = mode
        self.raise_errors = raise_errors
        self._size = 0
        self._rotates = True
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            path, mode="a", maxBytes=rotation.max_bytes, backupCount=rotation.backups, encoding="utf-8"
        )

    def _open(self) -> TextIOWrapper:
        stream = open(  # noqa: SIM115 - the handler keeps it open until close()
            self.baseFilename, "a", encoding=self.encoding, errors=self.errors,
            opener=private_opener(self.file_mode),
        )  # fmt: skip
        status = os.fstat(stream.fileno())
        self._size = status.st_size
        self._rotates = stat.S_ISREG(status.st_mode)  # never rotate /dev/null or a pipe (bpo-45401)
        return stream

    def emit(self, record: logging.LogRecord) -> None:
        """Format once and rotate by the size written so far: logging's own handler formats each line
        twice and stats, seeks and tells the file for every line (``ivr serve`` logs one per call step)."""
        try:
            text = self.format(record) + self.terminator
            if self.stream is None:
                self.stream = self._open()
            size = len(text.encode(self.encoding or "utf-8", "replace"))
            if self._rotates and self._size > 0 and self._size + size > self.maxBytes:
                self.doRollover()  # reopens the file (no ``delay``): the size starts again at 0
            self.stream.write(text)
            self.flush()
            self._size += size
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:
        failure = sys.exc_info()[1]
        if self.raise_errors and failure is not None:
            raise failure
        super().handleError(record)


class SecondFormatter(logging.Formatter):
    """``logging.Formatter`` whose time text (``2026-12-06 05:58:09,270`` by default) is built once a
    second: ``time.localtime`` and ``strftime`` for every line were a third of a ``serve.log`` line's
    CPU in a profile at 300 callers. Same text as the base class's; a ``datefmt`` given goes the base
    class's way."""

    _second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        cached, text = self._second
        if second != cached:
            text = time.strftime(self.default_time_format, self.converter(second))
            self._second = (second, text)
        return self.default_msec_format % (text, record.msecs) if self.default_msec_format else text


def log_to_file(path: Path, rotation: Rotation = DEFAULT_ROTATION, level: int = logging.INFO) -> None:
    """Send the root logger's lines to ``path`` (private, rotated) instead of stderr."""
    handler = PrivateRotatingFileHandler(path, rotation)
    handler.setFormatter(SecondFormatter(_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)


def lean_records() -> None:
    """Log records without what no line of ours prints: the calling frame's file, line and function
    (``findCaller`` walks the stack for every record), the thread, the process and its name. Python's
    logging HOWTO, "Optimization". For ``ivr serve``, which logs a line per call step: ``Logger.info``
    was 5.7% of its CPU at 300 callers, most of it building the record. Process-wide."""
    logging._srcfile = None  # the documented switch (logging HOWTO, Optimization)
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def rotate_if_over(path: Path, rotation: Rotation, first: int = 1) -> bool:
    """Rotate a log another process writes (Asterisk's), while that process is not running.

    When ``path`` is ``max_bytes`` or more: ``path`` becomes ``path.<first>``, older numbers move up one,
    and numbers past ``first + backups - 1`` are deleted. True when it rotated. ``first`` is 0 for
    Asterisk's ``rotatestrategy = rotate`` naming (``full.0`` is the newest).
    """
    try:
        if path.stat().st_size < rotation.max_bytes:
            return False
    except FileNotFoundError:
        return False
    last = first + rotation.backups - 1
    for old in path.parent.glob(f"{path.name}.*"):
        suffix = old.name.removeprefix(f"{path.name}.")
        if suffix.isdigit() and int(suffix) >= last:
            old.unlink()
    for number in range(last - 1, first - 1, -1):
        older = path.with_name(f"{path.name}.{number}")
        if older.exists():
            older.rename(path.with_name(f"{path.name}.{number + 1}"))
    path.rename(path.with_name(f"{path.name}.{first}"))
    return True
