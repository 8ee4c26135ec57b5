"""CPU time of a process from ``/proc/<pid>/stat`` (all its threads; Linux only)."""

from __future__ import annotations

import os
from pathlib import Path

from ivr_engine.bench.figures import CpuTimes

__all__ = ["TICKS_PER_S", "parse_stat", "read_cpu"]

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def parse_stat(text: str) -> CpuTimes:
    """utime and stime of a ``/proc/<pid>/stat`` line (the command name may contain spaces)."""
    after_name = text[text.rindex(")") + 2 :].split()
    return CpuTimes(utime=int(after_name[11]), stime=int(after_name[12]))


def read_cpu(pid: int | None) -> CpuTimes | None:
    """The process's CPU so far, or None if it is unknown or gone."""
    if pid is None:
        return None
    try:
        return parse_stat(Path(f"/proc/{pid}/stat").read_text())
    except (OSError, ValueError, IndexError):
        return None
