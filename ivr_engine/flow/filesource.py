"""Reading a flow file's text safely: regular files only, a size cap, UTF-8.

A FIFO named ``x.yaml`` would block ``open`` and a symlink to ``/dev/zero`` would read until memory
runs out: the file is opened without blocking, checked to be a regular file (after symlinks), and
read up to ``MAX_FLOW_BYTES``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["MAX_FLOW_BYTES", "FileRefused", "read_flow_text"]

MAX_FLOW_BYTES = 256 * 1024


class FileRefused(Exception):
    """The file cannot be a flow; ``line`` is where (0: the whole file)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


def read_flow_text(path: Path) -> str:
    """The text of ``path``; ``FileRefused`` says why not (never blocks on a FIFO or device)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise FileRefused(f"cannot read flow: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileRefused("not a regular file (a folder, FIFO or device cannot be a flow)")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FLOW_BYTES:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FLOW_BYTES:
            raise FileRefused(f"larger than {MAX_FLOW_BYTES // 1024} KiB: too large for a flow")
    except OSError as exc:
        raise FileRefused(f"cannot read flow: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileRefused(f"not UTF-8 text: {exc.reason} (byte {data[exc.start]:#04x})", line) from None
