"""``ivr validate`` in one pass: every schema and graph problem of every file at once, with hints;
spin loops wherever they are; queues and skills checked against acd.yaml; ``--format json``."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest
from click.testing import CliRunner

from cli import main
from ivr_engine.flow.checks import AcdNames
from ivr_engine.flow.validator import ValidationReport, validate_paths

from .fakes import FakeCatalogue

ROOT = Path(__file__).parents[2]
PROMPTS = FakeCatalogue({"hello": "Hello.", "menu": "Press 1.", "bye": "Bye."})
ACD = AcdNames("acd.yaml", frozenset({"general", "billing"}), frozenset({"general", "billing", "orders"}))


def _check(tmp_path: Path, acd: AcdNames | None = None, **files: str) -> ValidationReport:
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(dedent(text))
    return validate_paths([tmp_path], catalogue=PROMPTS, acd=acd)


def _errors(report: ValidationReport, tmp_path: Path) -> set[str]:
    return {str(p).replace(f"{tmp_path}/", "") for p in report.errors}


def test_every_problem_of_every_node_and_file_comes_at_once(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        first="""\
        nodes:
          ask:
            type: menu
            promt: menu
            timeout: five
            choices: {"1": bye, "0": bye, "2": byee}
          bye: {type: hangup, prompt: bey}
          lonely: {type: hangup}
          odd: {type: plya, next: bye}
        """,
        second="""\
        nodes:
          a: {type: play, prompt: hello, next: nowhere}
        """,
    )
    assert _errors(report, tmp_path) == {
        "first.yaml:2: node 'ask': missing required field 'on_fail'",
        "first.yaml:4: node 'ask': unknown field 'promt' in a menu node (did you mean `prompt`?)",
        "first.yaml:5: node 'ask': 'timeout' must be a number",
        "first.yaml:2: node 'ask': exit '2' goes to node 'byee', which does not exist (did you mean `bye`?)",
        "first.yaml:9: node 'odd': unknown node type 'plya' (did you mean `play`?) (known: branch, call,"
        " gather, goto, hangup, hours, lookup, menu, play, record, return, say, set, survey, transfer)",
        "second.yaml:2: node 'a': exit 'next' goes to node 'nowhere', which does not exist",
        "first.yaml:7: node 'bye': prompt 'bey' is not in the 'en' prompt catalogue (did you mean `bye`?)",
    }


def test_graph_checks_run_beside_schema_errors_in_other_nodes(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        t="""\
        nodes:
          start: {type: play, prompt: hello, next: again}
          again: {type: goto, goto: start}
          lonely: {type: hangup}
          bad: {type: play, prompt: hello, next: start, barge_in: maybe}
        """,
    )
    errors = _errors(report, tmp_path)
    assert "t.yaml:5: node 'bad': 'barge_in' must be true or false" in errors
    assert "t.yaml:2: node 'start': loop without caller input can spin forever: start -> again" in errors
    assert "t.yaml:4: node 'lonely': unreachable: no path leads here from the start node 'start'" in errors


def test_a_spin_loop_is_found_inside_a_loop_that_has_a_menu_elsewhere(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        t="""\
        nodes:
          ask:
            type: menu
            prompt: menu
            choices: {"1": tell, "0": bye}
            on_fail: bye
          tell: {type: play, prompt: hello, next: count}
          count: {type: set, values: {n: "1"}, next: decide}
          decide:
            type: branch
            when: [{if: n == "2", goto: ask}]
            else: tell
          bye: {type: hangup}
        """,
    )
    assert (
        "t.yaml:7: node 'tell': loop without caller input can spin forever: tell -> count -> decide"
        in _errors(report, tmp_path)
    )


def test_a_loop_through_a_sub_flow_that_waits_for_the_caller_is_no_spin_loop(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        top="""\
        nodes:
          go: {type: call, flow: ask, next: go}
        """,
        ask="""\
        nodes:
          q:
            type: menu
            prompt: menu
            choices: {"1": done, "0": done}
            on_fail: done
          done: {type: return}
        """,
    )
    assert not any("spin" in p.message for p in report.problems), report.problems


def test_queues_and_skills_are_checked_against_the_acd(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        acd=ACD,
        t="""\
        nodes:
          a: {type: transfer, queue: biling, skills: {billing: 5, cooking: 2}, next: b}
          b: {type: transfer, queue: nosuchqueue, next: c}
          c: {type: hangup}
        """,
    )
    assert _errors(report, tmp_path) == {
        "t.yaml:2: node 'a': queue 'biling' is not in acd.yaml (did you mean `billing`?)"
        " (queues: billing, general)",
        "t.yaml:2: node 'a': skill 'cooking' is not in acd.yaml: no agent or queue has it",
        "t.yaml:3: node 'b': queue 'nosuchqueue' is not in acd.yaml (queues: billing, general)",
    }


def test_sub_flows_resolve_in_the_library_folders(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "nodes:\n  a: {type: call, flow: agent, next: b}\n  b: {type: hangup}\n"
    )
    alone = validate_paths([tmp_path / "mine.yaml"], catalogue=None)
    assert any("sub-flow 'agent' does not exist" in p.message for p in alone.errors)
    with_library = validate_paths([tmp_path / "mine.yaml"], catalogue=None, library=[ROOT / "flows"])
    assert with_library.ok, with_library.errors


def test_thirty_chained_flows_are_checked_quickly(tmp_path: Path) -> None:
    for i in range(30):
        calls = "\n".join(f"  c{j}: {{type: call, flow: f{i + 1}, next: c{j + 1}}}" for j in range(40))
        (tmp_path / f"f{i}.yaml").write_text(f"nodes:\n{calls}\n  c40: {{type: return}}\n")
    (tmp_path / "f30.yaml").write_text("nodes:\n  r: {type: return}\n")
    report = validate_paths([tmp_path], catalogue=None)
    assert report.ok, report.errors[:3]


def test_a_call_cycle_is_reported_with_its_chain(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        a="nodes:\n  x: {type: call, flow: b, next: y}\n  y: {type: hangup}\n",
        b="nodes:\n  x: {type: call, flow: a, next: y}\n  y: {type: return}\n",
    )
    assert any("sub-flow calls come back to this flow (a -> b -> a)" in e for e in _errors(report, tmp_path))


@pytest.mark.parametrize("strict", [False, True])
def test_cli_validate_json_lists_every_problem(tmp_path: Path, strict: bool) -> None:
    (tmp_path / "t.yaml").write_text("nodes:\n  a: {type: play, promt: x, next: b}\n  b: {type: transfer}\n")
    args = ["validate", "--format", "json", str(tmp_path), *(["--strict"] if strict else [])]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False
    assert data["files"] == [str(tmp_path / "t.yaml")]
    found = {(p["line"], p["node"], p["severity"], p["message"]) for p in data["problems"]}
    assert (2, "a", "error", "unknown field 'promt' in a play node (did you mean `prompt`?)") in found
    assert (3, "b", "error", "missing required field 'queue'") in found
    assert data["errors"] == len([p for p in data["problems"] if p["severity"] == "error"])


def test_cli_validate_checks_queues_against_the_agents_file(tmp_path: Path) -> None:
    flow = tmp_path / "flows"
    flow.mkdir()
    (flow / "t.yaml").write_text(
        "nodes:\n  a: {type: transfer, queue: nosuchqueue, next: b}\n  b: {type: hangup}\n"
    )
    result = CliRunner().invoke(main, ["validate", str(flow)])
    assert result.exit_code == 1
    assert "queue 'nosuchqueue' is not in" in result.output


def test_control_characters_in_node_ids_are_escaped(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text('nodes:\n  "a\\e[31mred\\nx": {type: hangup}\n')
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "\x1b" not in result.output
    assert "a\\x1b[31mred\\nx" in result.output
