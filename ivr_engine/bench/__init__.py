"""``ivr bench``: a SIPp caller mix through ivr-engine and through a plain-dialplan IVR, with figures."""

from __future__ import annotations

from ivr_engine.bench.errors import BenchError
from ivr_engine.bench.figures import BenchReport, CpuTimes, RunFigures, cpu_per_call_ms, percentile, ratio
from ivr_engine.bench.rounds import BenchRounds
from ivr_engine.bench.runner import BenchOptions, bench

__all__ = [
    "BenchError",
    "BenchOptions",
    "BenchReport",
    "BenchRounds",
    "CpuTimes",
    "RunFigures",
    "bench",
    "cpu_per_call_ms",
    "percentile",
    "ratio",
]
