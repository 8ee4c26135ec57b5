"""Several rounds of the same load (``ivr bench --rounds N``) and the median of each figure over them.

On a shared machine one run's CPU and latency move with whatever else runs beside it; a round runs both
paths back to back, so each round's ratios compare like with like, and the median over the rounds is
what one round's neighbours cannot sway. Pure: the runs' figures in, a table and JSON out.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ivr_engine.bench.figures import BenchReport
from ivr_engine.texttables import aligned_lines

__all__ = ["BenchRounds", "median"]


def median(values: Sequence[float | None]) -> float | None:
    """The median of the known values; None when none is known."""
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


_Figure = Callable[[BenchReport], float | None]

_FIGURES: tuple[tuple[str, str, _Figure, int, str], ...] = (
    # JSON key, column, figure of one round, digits, unit suffix in the table
    ("service_cpu_ms_per_call", "SVC CPU ms/call", lambda r: r.ours.service_cpu_ms_per_call, 1, ""),
    ("cpu_per_call", "CPU RATIO", lambda r: r.cpu_ratio, 2, "x"),
    ("asterisk_cpu_per_call", "AST RATIO", lambda r: r.asterisk_cpu_ratio, 2, "x"),
    ("heard_p50_ms", "HEARD p50 ms", lambda r: r.ours.heard_p50_ms, 0, ""),
    ("heard_p99_ms", "p99 ms", lambda r: r.ours.heard_p99_ms, 0, ""),
    ("dialplan_heard_p50_ms", "DIALPLAN p50 ms", lambda r: r.baseline.heard_p50_ms, 0, ""),
    ("dialplan_heard_p99_ms", "p99 ms", lambda r: r.baseline.heard_p99_ms, 0, ""),
    ("heard_p50_minus_dialplan_ms", "p50 GAP ms", lambda r: r.heard_p50_over_ms, 0, ""),
    ("heard_p99_minus_dialplan_ms", "p99 GAP ms", lambda r: r.heard_p99_over_ms, 0, ""),
    ("success_rate", "OK RATIO", lambda r: r.success_ratio, 2, ""),
)  # fmt: skip


def _cell(value: float | None, digits: int, suffix: str) -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


@dataclass(frozen=True)
class BenchRounds:
    """Each round: the caller mix through ivr-engine, then through the dialplan (``BenchReport``)."""

    reports: tuple[BenchReport, ...]

    def __post_init__(self) -> None:
        if not self.reports:
            raise ValueError("a benchmark has at least one round")

    def medians(self) -> dict[str, float | None]:
        """Each figure's median over the rounds (a gap is the median of the rounds' gaps)."""
        return {key: median([figure(r) for r in self.reports]) for key, _, figure, _, _ in _FIGURES}

    def as_json(self) -> dict[str, object]:
        """One round: that round's report as before. Several: ``mix``, ``rounds`` (each a report) and
        ``median`` (``medians``)."""
        if len(self.reports) == 1:
            return self.reports[0].as_json()
        return {
            "mix": self.reports[0].mix,
            "rounds": [report.as_json() for report in self.reports],
            "median": self.medians(),
        }

    def table(self) -> str:
        """One round: its report's table. Several: each round's table, then one line per round and the
        medians, aligned."""
        if len(self.reports) == 1:
            return self.reports[0].table()
        parts = [f"round {n}\n{report.table()}" for n, report in enumerate(self.reports, 1)]
        header = ("ROUND", *(column for _, column, _, _, _ in _FIGURES))
        rows = [
            (str(n), *(_cell(figure(report), digits, suffix) for _, _, figure, digits, suffix in _FIGURES))
            for n, report in enumerate(self.reports, 1)
        ]
        medians = self.medians()
        rows.append(("median", *(_cell(medians[key], digits, suffix)
                                 for key, _, _, digits, suffix in _FIGURES)))  # fmt: skip
        lines = aligned_lines(header, rows, right=frozenset(range(1, len(header))))  # figures right-aligned
        title = f"{len(self.reports)} rounds (ivr-engine, then the dialplan, in each):"
        parts.append("\n".join([title, *lines]))
        return "\n\n".join(parts)
