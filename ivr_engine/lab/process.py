"""The lab's process plumbing: start a process in its own session with its output in a private log,
wait on a condition, stop a process it started, and read back what a log gained since an offset."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ivr_engine.lab.probe import pid_alive
from ivr_engine.privatefiles import private_opener

__all__ = ["log_since", "log_size", "reap", "spawn", "tail", "terminate", "wait_until"]


def log_since(path: Path, offset: int) -> str:
    """What was written to ``path`` after byte ``offset`` ("" when it cannot be read)."""
    try:
        with path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")
    except OSError:
        return ""


def tail(path: Path, lines: int = 5, offset: int = 0) -> str:
    text = log_since(path, offset).splitlines()
    return "\n".join(line for line in text[-lines:] if line.strip(" \x1b[0m"))


def log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def wait_until(
    ready: Callable[[], bool], alive: Callable[[], bool], timeout_s: float, interval_s: float = 0.2
) -> bool:
    """True once ``ready()``; False when ``alive()`` turns false first or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return True
        if not alive():
            return False
        time.sleep(interval_s)
    return ready()


def spawn(
    cmd: list[str],
    log: Path,
    cwd: Path,
    pid_file: Path,
    umask: int = -1,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in its own session, stdout and stderr appended to ``log`` (0600); record its pid.

    ``env`` is its environment (default: this process's)."""
    with open(log, "ab", opener=private_opener()) as out:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
            start_new_session=True, env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"},
            umask=umask,
        )  # fmt: skip
    pid_file.write_text(f"{proc.pid}\n")
    return proc


def terminate(pid: int, marker: str, timeout_s: float) -> None:
    """SIGTERM, then SIGKILL after ``timeout_s``; ``marker`` guards against a recycled pid."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if wait_until(lambda: not pid_alive(pid, marker), lambda: True, timeout_s):
            break
    reap(pid)


def reap(pid: int) -> None:
    """Collect the exit status if the process is our own child (when ``up`` ran in this process)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
