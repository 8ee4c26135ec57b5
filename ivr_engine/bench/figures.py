"""The benchmark's figures, computed from plain inputs (pure): percentiles, CPU per call, ratios, table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ivr_engine.texttables import aligned_lines

__all__ = ["BenchReport", "CpuTimes", "RunFigures", "cpu_per_call_ms", "percentile", "ratio"]


@dataclass(frozen=True)
class CpuTimes:
    """User + system CPU of one process, in clock ticks (``/proc/<pid>/stat`` fields 14 and 15)."""

    utime: int
    stime: int

    def seconds_since(self, before: CpuTimes, ticks_per_s: int) -> float:
        return ((self.utime + self.stime) - (before.utime + before.stime)) / ticks_per_s


def percentile(samples: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by nearest rank; None without samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def cpu_per_call_ms(cpu_s: float, calls: int) -> float | None:
    """CPU milliseconds per succeeded call; None when no call succeeded."""
    return cpu_s * 1000 / calls if calls > 0 else None


def ratio(ours: float | None, baseline: float | None) -> float | None:
    """``ours / baseline``; None when either is unknown or the baseline is zero."""
    if ours is None or baseline is None or baseline == 0:
        return None
    return ours / baseline


@dataclass(frozen=True)
class RunFigures:
    """One load run (our service, or the dialplan baseline)."""

    name: str
    number: str
    attempted: int
    succeeded: int
    failed: int
    wall_s: float
    peak_concurrent: int
    asterisk_cpu_s: float
    service_cpu_s: float | None  # None for the baseline: no service in the call path
    heard_ms: tuple[float, ...] = ()
    """Key -> answer heard, per answered key sent on a quiet line (``ivr_engine.bench.heard``)."""
    keys: int = 0
    quiet_keys: int = 0
    unanswered: int = 0
    rtp_dropped: int = 0
    """RTP packets the capture missed (kernel buffer full): non-zero makes the latency doubtful."""
    load_1m: float | None = None
    """The machine's 1-minute load average at the end of the run."""
    rig_cpu_s: float | None = None
    """CPU the load generator took in the run: SIPp (the callers) and the bench's own process (the
    capture). On one machine it competes with Asterisk and the service for the same cores."""

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.attempted if self.attempted else None

    @property
    def calls_per_s(self) -> float | None:
        return self.attempted / self.wall_s if self.wall_s > 0 else None

    @property
    def asterisk_cpu_ms_per_call(self) -> float | None:
        return cpu_per_call_ms(self.asterisk_cpu_s, self.succeeded)

    @property
    def service_cpu_ms_per_call(self) -> float | None:
        return None if self.service_cpu_s is None else cpu_per_call_ms(self.service_cpu_s, self.succeeded)

    @property
    def total_cpu_ms_per_call(self) -> float | None:
        return cpu_per_call_ms(self.asterisk_cpu_s + (self.service_cpu_s or 0.0), self.succeeded)

    @property
    def rig_cpu_ms_per_call(self) -> float | None:
        return None if self.rig_cpu_s is None else cpu_per_call_ms(self.rig_cpu_s, self.succeeded)

    @property
    def heard_p50_ms(self) -> float | None:
        return percentile(self.heard_ms, 50)

    @property
    def heard_p99_ms(self) -> float | None:
        return percentile(self.heard_ms, 99)

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("heard_ms")
        data.update(
            success_rate=self.success_rate,
            calls_per_s=self.calls_per_s,
            asterisk_cpu_ms_per_call=self.asterisk_cpu_ms_per_call,
            service_cpu_ms_per_call=self.service_cpu_ms_per_call,
            total_cpu_ms_per_call=self.total_cpu_ms_per_call,
            rig_cpu_ms_per_call=self.rig_cpu_ms_per_call,
            heard_samples=len(self.heard_ms),
            heard_p50_ms=self.heard_p50_ms,
            heard_p99_ms=self.heard_p99_ms,
        )
        return data


def _fmt(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


@dataclass(frozen=True)
class BenchReport:
    """Our service and the baseline under the same load, and how they compare."""

    ours: RunFigures
    baseline: RunFigures
    mix: dict[str, int]

    @property
    def cpu_ratio(self) -> float | None:
        """Our CPU per call (Asterisk + service) over the dialplan's (Asterisk alone)."""
        return ratio(self.ours.total_cpu_ms_per_call, self.baseline.total_cpu_ms_per_call)

    @property
    def asterisk_cpu_ratio(self) -> float | None:
        return ratio(self.ours.asterisk_cpu_ms_per_call, self.baseline.asterisk_cpu_ms_per_call)

    @property
    def success_ratio(self) -> float | None:
        return ratio(self.ours.success_rate, self.baseline.success_rate)

    @property
    def heard_p50_over_ms(self) -> float | None:
        """How much later than the dialplan's our p50 key -> answer heard is (negative: sooner)."""
        return _minus(self.ours.heard_p50_ms, self.baseline.heard_p50_ms)

    @property
    def heard_p99_over_ms(self) -> float | None:
        """How much later than the dialplan's our p99 key -> answer heard is (negative: sooner)."""
        return _minus(self.ours.heard_p99_ms, self.baseline.heard_p99_ms)

    def as_json(self) -> dict[str, object]:
        return {
            "mix": self.mix,
            "runs": [self.ours.as_json(), self.baseline.as_json()],
            "ratios": {
                "cpu_per_call": self.cpu_ratio,
                "asterisk_cpu_per_call": self.asterisk_cpu_ratio,
                "success_rate": self.success_ratio,
                "heard_p99_minus_dialplan_ms": self.heard_p99_over_ms,
            },
        }

    def table(self) -> str:
        header = ("RUN", "NUMBER", "ATTEMPTED", "OK", "FAILED", "CALLS/S", "PEAK", "AST CPU ms/call",
                  "SVC CPU ms/call", "TOTAL ms/call", "HEARD p50 ms", "p99 ms", "SAMPLES", "KEYS",
                  "QUIET", "UNANSWERED", "RTP LOST", "RIG CPU ms/call", "LOAD")  # fmt: skip
        rows = [
            (r.name, r.number, _fmt(r.attempted), _fmt(r.succeeded), _fmt(r.failed), _fmt(r.calls_per_s, 2),
             _fmt(r.peak_concurrent), _fmt(r.asterisk_cpu_ms_per_call), _fmt(r.service_cpu_ms_per_call),
             _fmt(r.total_cpu_ms_per_call), _fmt(r.heard_p50_ms), _fmt(r.heard_p99_ms), _fmt(len(r.heard_ms)),
             _fmt(r.keys), _fmt(r.quiet_keys), _fmt(r.unanswered), _fmt(r.rtp_dropped),
             _fmt(r.rig_cpu_ms_per_call), _fmt(r.load_1m, 2))
            for r in (self.ours, self.baseline)
        ]  # fmt: skip
        lines = aligned_lines(header, rows, right=frozenset(range(2, len(header))))  # figures right-aligned
        mix = ", ".join(f"{name} {count}" for name, count in self.mix.items())
        lines.append(f"mix: {mix}")
        lines.append(
            f"ratios (ivr-engine / dialplan): CPU per call {_fmt(self.cpu_ratio, 2)}x "
            f"(Asterisk alone {_fmt(self.asterisk_cpu_ratio, 2)}x), "
            f"success rate {_fmt(self.success_ratio, 2)}; "
            f"key -> answer heard p99 {_gap(self.heard_p99_over_ms)}"
        )
        lines.extend(
            f"{r.name}: the capture socket lost {r.rtp_dropped} RTP packets (the machine was too busy to "
            "read them): its key -> answer figures miss the answers in them"
            for r in (self.ours, self.baseline) if r.rtp_dropped
        )
        return "\n".join(lines)


def _minus(ours: float | None, baseline: float | None) -> float | None:
    return None if ours is None or baseline is None else ours - baseline


def _gap(over_ms: float | None) -> str:
    """Our p99 against the dialplan's, in words: ``80.9 ms behind the dialplan's``."""
    if over_ms is None:
        return "not comparable (a run has no samples)"
    if over_ms == 0:
        return "the same as the dialplan's"
    return f"{_fmt(abs(over_ms))} ms {'behind' if over_ms > 0 else 'ahead of'} the dialplan's"
