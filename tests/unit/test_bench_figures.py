"""Benchmark figures on fixed inputs: percentiles, CPU deltas, per-call CPU, ratios, report."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ivr_engine.bench.figures import BenchReport, CpuTimes, RunFigures, cpu_per_call_ms, percentile, ratio
from ivr_engine.bench.procstat import parse_stat


def test_percentile_nearest_rank() -> None:
    samples = [float(v) for v in range(100, 0, -1)]  # 1..100, unsorted
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 99) == 99.0
    assert percentile(samples, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_cpu_delta_in_seconds() -> None:
    before, after = CpuTimes(utime=1000, stime=200), CpuTimes(utime=1150, stime=250)
    assert after.seconds_since(before, ticks_per_s=100) == pytest.approx(2.0)


def test_parse_stat_survives_spaces_in_the_name() -> None:
    line = "4242 (ivr serve (x)) S 1 4242 4242 0 -1 4194560 900 0 0 0 321 45 0 0 20 0 9 0 100 0 0"
    assert parse_stat(line) == CpuTimes(utime=321, stime=45)


def test_cpu_per_call_and_ratio() -> None:
    assert cpu_per_call_ms(1.5, 3) == pytest.approx(500.0)
    assert cpu_per_call_ms(1.5, 0) is None
    assert ratio(300.0, 150.0) == pytest.approx(2.0)
    assert ratio(300.0, 0.0) is None
    assert ratio(None, 1.0) is None


def _run(name: str, succeeded: int, asterisk_s: float, service_s: float | None) -> RunFigures:
    return RunFigures(
        name=name, number="100" if service_s is not None else "9100", attempted=10, succeeded=succeeded,
        failed=10 - succeeded, wall_s=20.0, peak_concurrent=4, asterisk_cpu_s=asterisk_s,
        service_cpu_s=service_s, rig_cpu_s=0.5,
        heard_ms=(100.0, 120.0, 130.0, 900.0) if service_s is not None else (80.0, 90.0, 700.0),
    )  # fmt: skip


def test_report_ratios_and_json() -> None:
    report = BenchReport(
        ours=_run("ivr-engine", 10, asterisk_s=1.0, service_s=2.0),
        baseline=_run("dialplan", 8, asterisk_s=0.8, service_s=None),
        mix={"balance": 4, "order": 3, "points": 3},
    )
    # ours: (1.0 + 2.0) s / 10 calls = 300 ms; baseline 0.8 s / 8 = 100 ms
    assert report.ours.total_cpu_ms_per_call == pytest.approx(300.0)
    assert report.baseline.total_cpu_ms_per_call == pytest.approx(100.0)
    assert report.cpu_ratio == pytest.approx(3.0)
    assert report.asterisk_cpu_ratio == pytest.approx(1.0)
    assert report.success_ratio == pytest.approx(1.0 / 0.8)
    assert report.ours.calls_per_s == pytest.approx(0.5)
    data = report.as_json()
    ours, baseline = data["runs"]  # type: ignore[misc]
    assert (ours["heard_p50_ms"], ours["heard_p99_ms"], ours["heard_samples"]) == (120.0, 900.0, 4)
    assert (baseline["heard_p50_ms"], baseline["heard_p99_ms"]) == (90.0, 700.0)
    assert data["ratios"]["heard_p99_minus_dialplan_ms"] == pytest.approx(200.0)  # type: ignore[index]
    assert baseline["service_cpu_ms_per_call"] is None
    assert ours["rig_cpu_ms_per_call"] == pytest.approx(50.0)  # 0.5 s for 10 calls
    table = report.table()
    assert table.splitlines()[1].startswith("ivr-engine")
    header, first = table.splitlines()[:2]
    rig_at = header.index("RIG CPU ms/call") + len("RIG CPU ms/call")
    assert first[:rig_at].endswith(" 50.0")  # right-aligned under its header
    assert "CPU per call 3.00x" in table
    assert "key -> answer heard p99 200.0 ms behind the dialplan's" in table
    assert "lost" not in table


def test_report_says_ahead_and_warns_of_lost_packets() -> None:
    ours = replace(_run("ivr-engine", 10, asterisk_s=1.0, service_s=2.0), heard_ms=(100.0, 300.0))
    baseline = replace(_run("dialplan", 10, asterisk_s=1.0, service_s=None), rtp_dropped=55195)
    table = BenchReport(ours=ours, baseline=baseline, mix={"balance": 10}).table()
    assert "key -> answer heard p99 400.0 ms ahead of the dialplan's" in table  # 300 against 700
    assert table.splitlines()[-1] == (
        "dialplan: the capture socket lost 55195 RTP packets (the machine was too busy to read them): "
        "its key -> answer figures miss the answers in them"
    )
    assert "ivr-engine: the capture socket lost" not in table
