"""Files only their owner may read: logs, secrets, the SQLite database, spooled writes.

Each file is *created* with its mode (``os.open`` with the mode, so it is never readable by others, not
even for a moment); the process umask can only narrow it further. A file that already exists keeps the
mode it has. Directories that hold such files (the lab's log folder) are made 0700 the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "PRIVATE_DIR",
    "PRIVATE_FILE",
    "create_private",
    "make_private_dir",
    "private_opener",
    "write_private",
]

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_opener(mode: int = PRIVATE_FILE) -> Callable[[str, int], int]:
    """An ``opener`` for :func:`open` that creates the file with ``mode``: ``open(p, "a", opener=...)``."""

    def opener(path: str, flags: int) -> int:
        return os.open(path, flags, mode)

    return opener


def create_private(path: Path, mode: int = PRIVATE_FILE) -> None:
    """Create ``path`` empty with ``mode`` unless it exists (then it is left as it is)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, mode))


def write_private(path: Path, text: str, mode: int = PRIVATE_FILE) -> None:
    """Replace ``path`` atomically with ``text``, the new file created with ``mode``; OSError if it cannot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)  # a stale one could have a wider mode: O_EXCL makes a fresh file
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def make_private_dir(path: Path, mode: int = PRIVATE_DIR) -> None:
    """Create ``path`` (and missing parents, with the default mode) the last one with ``mode``."""
    path.mkdir(mode=mode, parents=True, exist_ok=True)
