"""``ivr flows test --live``: every shipped flow test case (flows/tests/*.yaml) played as a real call into
one lab, plus a case written wrong on purpose, which must fail with both paths shown.

What is checked per case is the command's own work (answered, node path from the node log, how the call
ended, what the caller heard over RTP); this test checks the command's verdicts and that it plays every
shipped case: transfers that end completed (a lab agent's phone answers), callback (the caller presses
the hold's callback key) and overflow (the queues' max_wait cut to --max-wait) as well as no_agents, and
the agent sub-flow's cases reached from main by 0.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ivr_engine.config import PROJECT_ROOT
from ivr_engine.flow.cases import read_cases

from .conftest import Lab, require_lab, serving_lab

pytestmark = pytest.mark.lab

SHIPPED = PROJECT_ROOT / "flows" / "tests"
ONLY = os.environ.get("IVR_LIVE_CASES", "")  # a debugging aid: one test file instead of all
CONCURRENCY = int(os.environ.get("IVR_LIVE_CONCURRENCY", "8"))
"""Calls at once, more than the command's default (3): with 8 the fillers are done before the lane's
blocks (none, ready, paused agents: one after the other), so the run takes what those blocks take."""


@pytest.fixture(scope="module")
def case_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab of its own: the live run restarts ``ivr serve`` on the cases' clocks."""
    require_lab()
    with serving_lab(Lab.create(tmp_path_factory.mktemp("cases")), ("db", "init"), ("db", "seed")) as lab:
        yield lab


WRONG = """\
flow: demo
cases:
  - name: a wrong expectation
    keys: "12#"
    path: [ask, bye, end]
    ends: completed
"""


def test_every_shipped_case_passes_live_and_a_wrong_one_fails(case_lab: Lab, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(WRONG)
    shipped = [SHIPPED / ONLY] if ONLY else sorted(SHIPPED.glob("*.yaml"))
    done = case_lab.ivr(
        "flows", "test", "--live", "--json", "--concurrency", str(CONCURRENCY),
        *map(str, shipped), str(wrong), timeout_s=1500,
    )  # fmt: skip
    out = done.stdout
    assert "[\n" in out, out  # the JSON results; progress lines (stderr) come before them
    results: list[dict[str, Any]] = json.JSONDecoder().raw_decode(out[out.index("[\n") :])[0]
    print(out)
    assert done.returncode == 1, out  # the wrong case fails the run

    by_file: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        by_file.setdefault(Path(result["file"]).name if result["file"] != str(wrong) else "WRONG", []).append(
            result
        )
    (failed_wrong,) = by_file.pop("WRONG")
    assert not failed_wrong["passed"]
    assert failed_wrong["expected_path"] == ["ask", "bye", "end"]
    assert failed_wrong["path"] == ["ask", "read_back", "bye", "end"]
    assert failed_wrong["answered"] is True

    expected_names = {f.name: [c.name for c in read_cases(f).cases] for f in shipped}
    assert {name: [r["name"] for r in rows] for name, rows in by_file.items()} == expected_names
    problems = [
        f"{r['file']}:{r['line']} {r['name']}: path {r['path']} heard {r['heard_problems']} "
        f"ended {r['ended']} broken {r['broken']} logs {r['logs']} call {r['call_id']} "
        f"rtp {r['rtp_packets']} keys {r['keys_sent']!r} {r['seconds']} s"
        for rows in by_file.values()
        for r in rows
        if not r["passed"] and not r["skipped"]
    ]
    assert not problems, "\n".join(problems) + "\n" + out
    played = [r for rows in by_file.values() for r in rows if not r["skipped"]]
    for result in played:
        assert result["answered"], result
        assert result["heard_audio_s"] > 0, result
        assert result["path"] == result["expected_path"], result
    skipped = {(Path(r["file"]).name, r["name"]): r["skipped"] for r in results if r["skipped"]}
    assert not skipped, skipped
    for result in by_file.get("agent.yaml", []):  # a sub-flow: reached from main, its part compared
        assert result["entry"] == "dialling 100 (main) and pressing 0", result
        assert result["path_around"] == result["expected_path_around"], result
        assert result["path_around"][0][-2:] == ["main_menu", "agent"], result
    needs = {(name, r["name"]): r["agents"] for name, rows in by_file.items() for r in rows}
    agents = {"completed": "ready", "callback": "paused", "overflow": "paused"}
    for file in shipped:  # "any": the case never reaches a transfer (e.g. closed hours)
        for case in read_cases(file).cases:
            wanted = agents.get(case.transfer.value, "none")
            assert needs[file.name, case.name] in (wanted, "any"), (case.name, needs[file.name, case.name])
    if not ONLY:
        assert set(needs.values()) == {"any", "none", "ready", "paused"}, needs
