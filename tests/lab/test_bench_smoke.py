"""``ivr bench`` on the shared lab: a small run prints both rows with sane figures."""

from __future__ import annotations

import json

import pytest

from .conftest import Lab

pytestmark = pytest.mark.lab


def test_bench_prints_both_runs_and_the_ratios(lab: Lab) -> None:
    done = lab.ivr("bench", "--calls", "6", "--rate", "2", "--concurrency", "6", "--json", timeout_s=240)
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout[done.stdout.index("{\n") :])
    ours, baseline = report["runs"]
    assert (ours["number"], baseline["number"]) == ("100", "9100")
    for run in (ours, baseline):
        assert run["attempted"] == 6
        assert run["succeeded"] + run["failed"] == 6
        assert run["peak_concurrent"] >= 1
        assert run["asterisk_cpu_s"] >= 0
    assert ours["succeeded"] > 0
    assert baseline["succeeded"] > 0
    assert ours["service_cpu_ms_per_call"] is not None
    assert ours["service_cpu_ms_per_call"] > 0
    for run in (ours, baseline):  # the callers heard an answer to their keys on both paths
        assert run["heard_samples"] > 0, run
        assert 0 < run["heard_p50_ms"] <= run["heard_p99_ms"] <= 5000
        assert run["keys"] >= run["quiet_keys"] > 0
    assert report["ratios"]["cpu_per_call"] is not None
    assert sum(report["mix"].values()) == 6
    channels = lab.ari_json("/channels")
    assert channels == [], channels
