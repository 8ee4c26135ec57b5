"""Size-bounded, private log files: ``ivr serve --log-file`` and ``<state_dir>/events.jsonl``.

A log file is created 0600 (see :mod:`ivr_engine.privatefiles`) and rotated when the next line would
take it past ``max_bytes``: ``serve.log`` becomes ``serve.log.1``, ``.1`` becomes ``.2`` and so on,
and the oldest beyond ``backups`` is deleted, so at most ``(backups + 1) * max_bytes`` stay on disk.
Rotation renames, so every backup keeps its private mode.

:class:`LogCursor` reads what was appended to a log since a point, across rotations (``ivr bench``).
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler
from pathlib import Path

from ivr_engine.config import ConfigError, Settings
from ivr_engine.privatefiles import PRIVATE_FILE, private_opener

__all__ = [
    "DEFAULT_ROTATION",
    "LogCursor",
    "PrivateRotatingFileHandler",
    "Rotation",
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
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            path, mode="a", maxBytes=rotation.max_bytes, backupCount=rotation.backups, encoding="utf-8"
        )

    def _open(self) -> TextIOWrapper:
        return open(
            self.baseFilename, "a", encoding=self.encoding, errors=self.errors,
            opener=private_opener(self.file_mode),
        )  # fmt: skip

    def handleError(self, record: logging.LogRecord) -> None:
        failure = sys.exc_info()[1]
        if self.raise_errors and failure is not None:
            raise failure
        super().handleError(record)


def log_to_file(path: Path, rotation: Rotation = DEFAULT_ROTATION, level: int = logging.INFO) -> None:
    """Send the root logger's lines to ``path`` (private, rotated) instead of stderr."""
    handler = PrivateRotatingFileHandler(path, rotation)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)


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


@dataclass(frozen=True)
class LogCursor:
    """A point in a rotated log: the file (by inode) and the offset in it."""

    path: Path
    inode: int | None
    offset: int

    @classmethod
    def at_end(cls, path: Path) -> LogCursor:
        """Where ``path`` ends now (the start, if it does not exist yet)."""
        try:
            stat = path.stat()
        except FileNotFoundError:
            return cls(path, None, 0)
        return cls(path, stat.st_ino, stat.st_size)

    def read_since(self) -> str:
        """Everything appended since this point, oldest first, including lines since rotated away."""
        parts: list[str] = []
        for file in self._files_since():
            with file.open("rb") as log:
                if self._is_start(file):
                    log.seek(self.offset)
                parts.append(log.read().decode("utf-8", errors="replace"))
        return "".join(parts)

    def _files_since(self) -> list[Path]:
        """The file the cursor points into, then the newer ones (``.N`` ... ``.1``, then ``path``)."""
        newest_first = [self.path]
        number = 1
        while (rotated := self.path.with_name(f"{self.path.name}.{number}")).exists():
            newest_first.append(rotated)
            number += 1
        for index, file in enumerate(newest_first):
            if self._is_start(file):
                return [*reversed(newest_first[: index + 1])]
        # No file at the start, or it was rotated away entirely: everything still on disk is new.
        return [file for file in reversed(newest_first) if file.exists()]

    def _is_start(self, file: Path) -> bool:
        """``file`` is the one the cursor was taken on (same inode, not shorter: not a reused inode)."""
        try:
            stat = os.stat(file)
        except FileNotFoundError:
            return False
        return stat.st_ino == self.inode and stat.st_size >= self.offset
