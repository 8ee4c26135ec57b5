"""Flow test cases (``flows/tests/*.yaml``) run by ``ivr flows test`` in the simulator: the shipped
cases pass (so ``make test`` runs them), every shipped flow has cases, and a failing case shows the
expected and actual path side by side."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from click.testing import CliRunner, Result

from cli import main
from ivr_engine.flow.cases import read_cases

ROOT = Path(__file__).parents[2]
FLOWS = ROOT / "flows"


def _run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--state-dir", str(tmp_path / "state"), "flows", "test", *args])


def _case_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(dedent(text))
    return path


def test_the_shipped_cases_pass(tmp_path: Path) -> None:
    result = _run(tmp_path, "-v")
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert result.output.count("PASS") >= 25
    assert "0 failed" in result.output


def test_every_shipped_flow_has_cases_including_failure_paths() -> None:
    tested = {read_cases(path).flow for path in (FLOWS / "tests").glob("*.yaml")}
    assert tested == {path.stem for path in FLOWS.glob("*.yaml")}
    names = " ".join(c.name for p in (FLOWS / "tests").glob("*.yaml") for c in read_cases(p).cases)
    for failure in ("wrong PIN", "no input", "invalid key"):
        assert failure in names


def test_a_wrong_path_fails_with_both_paths_side_by_side(tmp_path: Path) -> None:
    path = _case_file(
        tmp_path,
        """\
        flow: demo
        cases:
          - name: expects the wrong way
            keys: "12#"
            path: [ask, bye, end]
            heard: ["You entered", "never said"]
            ends: caller_hangup
        """,
    )
    result = _run(tmp_path, str(path))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"FAIL  {path}:3  expects the wrong way" in lines
    assert "      expected  actual" in lines
    assert "      ask       ask" in lines
    assert "    ! bye       read_back" in lines
    assert "    ! end       bye" in lines
    assert "    ! -         end" in lines
    assert "    not heard (in order): 'never said'" in lines
    assert "    ended completed, expected caller_hangup" in lines
    assert "1 cases in 1 files: 0 passed, 1 failed" in lines


def test_heard_fragments_must_come_in_order(tmp_path: Path) -> None:
    path = _case_file(
        tmp_path,
        """\
        flow: demo
        cases:
          - name: goodbye before the read-back
            keys: "12#"
            path: [ask, read_back, bye, end]
            heard: ["Goodbye", "You entered"]
        """,
    )
    result = _run(tmp_path, str(path))
    assert result.exit_code == 1
    assert "not heard (in order): 'You entered'" in result.output


def test_problems_in_a_case_file_are_located_with_hints(tmp_path: Path) -> None:
    path = _case_file(
        tmp_path,
        """\
        flow: demo
        cases:
          - name: typo
            kyes: "12#"
            path: [ask]
          - name: bad keys
            keys: "12x"
            path: [ask]
          - name: no path
        """,
    )
    result = _run(tmp_path, str(path))
    assert result.exit_code == 1
    assert (
        f"{path}:4: node 'typo': unknown field 'kyes' in a test case (did you mean `keys`?)" in result.output
    )
    assert f"{path}:7: node 'bad keys': not a key or T: 'x'" in result.output
    assert f"{path}:9: node 'no path': missing required field 'path'" in result.output


@pytest.mark.parametrize("flow", ["nosuchflow", "broken.yaml"])
def test_a_case_whose_flow_does_not_load_cannot_run(tmp_path: Path, flow: str) -> None:
    (tmp_path / "broken.yaml").write_text("nodes:\n  a: {type: plya}\n")
    path = _case_file(tmp_path, f"flow: {flow}\ncases:\n  - {{name: x, path: [a]}}\n")
    result = _run(tmp_path, str(path))
    assert result.exit_code == 1
    assert f"FAIL  {path}:3  x" in result.output
    assert "cannot run:" in result.output
    assert "Traceback" not in result.output
