"""Several benchmark rounds: each figure's median, the JSON and the aligned table (fixed inputs)."""

from __future__ import annotations

import pytest

from ivr_engine.bench.figures import BenchReport, RunFigures
from ivr_engine.bench.rounds import BenchRounds, median

MIX = {"balance": 2, "order": 1, "points": 1}


def _report(service_s: float, asterisk_s: float, baseline_s: float, ours_heard: float) -> BenchReport:
    def run(name: str, number: str, ast: float, svc: float | None, heard: float) -> RunFigures:
        return RunFigures(name=name, number=number, attempted=10, succeeded=10, failed=0, wall_s=20.0,
                          peak_concurrent=10, asterisk_cpu_s=ast, service_cpu_s=svc,
                          heard_ms=(heard,) * 10)  # fmt: skip

    return BenchReport(ours=run("ivr-engine", "100", asterisk_s, service_s, ours_heard),
                       baseline=run("dialplan", "9100", baseline_s, None, 100.0), mix=MIX)  # fmt: skip


def test_median_of_the_known_values() -> None:
    assert median([3.0, None, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0]) == 2.5
    assert median([None]) is None


def test_each_figure_is_the_median_over_the_rounds_and_a_gap_the_median_of_the_gaps() -> None:
    rounds = BenchRounds((
        _report(0.15, 0.8, 0.8, 150.0),  # 15 ms/call, (80 + 15) / 80
        _report(0.30, 0.9, 0.8, 400.0),  # a busy round: 30 ms/call
        _report(0.16, 0.7, 0.8, 180.0),
    ))  # fmt: skip
    medians = rounds.medians()
    assert medians["service_cpu_ms_per_call"] == pytest.approx(16.0)
    assert medians["cpu_per_call"] == pytest.approx((80 + 15) / 80)
    assert medians["asterisk_cpu_per_call"] == pytest.approx(1.0)
    assert medians["heard_p99_ms"] == pytest.approx(180.0)
    assert medians["heard_p99_minus_dialplan_ms"] == pytest.approx(80.0)
    assert medians["success_rate"] == pytest.approx(1.0)
    data = rounds.as_json()
    assert data["mix"] == MIX
    assert data["median"] == medians
    assert [r["ratios"]["heard_p99_minus_dialplan_ms"] for r in data["rounds"]] == [50.0, 300.0, 80.0]


def test_one_round_prints_and_dumps_as_a_single_report() -> None:
    report = _report(0.15, 0.8, 0.8, 150.0)
    rounds = BenchRounds((report,))
    assert rounds.table() == report.table()
    assert rounds.as_json() == report.as_json()


def test_the_table_has_each_round_a_line_per_round_and_the_medians_aligned() -> None:
    rounds = BenchRounds((_report(0.15, 0.8, 0.8, 150.0), _report(0.30, 0.9, 0.8, 400.0)))
    text = rounds.table()
    assert text.startswith("round 1\n")
    assert "\nround 2\n" in text
    summary = text.split("2 rounds (ivr-engine, then the dialplan, in each):\n")[1].splitlines()
    header, first, second, last = summary
    assert header.split()[:4] == ["ROUND", "SVC", "CPU", "ms/call"]
    assert first.split()[:4] == ["1", "15.0", "1.19x", "1.00x"]
    assert second.split()[:4] == ["2", "30.0", "1.50x", "1.12x"]
    assert last.split()[:4] == ["median", "22.5", "1.34x", "1.06x"]
    assert len({len(line) for line in (header, first, second, last)}) == 1  # right-aligned columns
    with pytest.raises(ValueError, match="at least one round"):
        BenchRounds(())
