"""``ivr flows test --live``: every shipped flow test case (flows/tests/*.yaml) played as a real call into
one lab, plus a case written wrong on purpose, which must fail with both paths shown.

What is checked per case is the command's own work (answered, node path from the node log, how the call
ended, what the caller heard over RTP); this test checks the command's verdicts and that it covers
every shipped case.
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
        "flows", "test", "--live", "--json", *map(str, shipped), str(wrong), timeout_s=1500
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
    skipped = [r for rows in by_file.values() for r in rows if r["skipped"]]
    reasons = {(Path(r["file"]).name, r["name"]): r["skipped"] for r in skipped}
    assert all("needs agents" in why or "sub-flow" in why for why in reasons.values()), reasons
