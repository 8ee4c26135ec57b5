"""``ivr validate``: the shipped flows pass; each kind of broken flow is caught at file:line."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from click.testing import CliRunner

from cli import main
from ivr_engine.flow.errors import Severity
from ivr_engine.flow.validator import KNOWN_LOOKUPS, ValidationReport, validate_paths

from .fakes import FakeCatalogue

ROOT = Path(__file__).parents[2]
PROMPTS = FakeCatalogue({"hello": "Hello.", "menu": "Press 1.", "bye": "Bye."})


def _check(tmp_path: Path, **files: str) -> ValidationReport:
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(dedent(text))
    return validate_paths([tmp_path], catalogue=PROMPTS)


def _errors(report: ValidationReport, tmp_path: Path) -> list[str]:
    return [str(p).replace(f"{tmp_path}/", "") for p in report.errors]


GOOD = """
nodes:
  menu:
    type: menu
    prompt: menu
    choices: {"1": bye, "0": bye}
    on_fail: bye
  bye: {type: hangup, prompt: bye}
"""


def test_a_good_flow_has_no_errors(tmp_path: Path) -> None:
    report = _check(tmp_path, good=GOOD)
    assert report.ok
    assert report.errors == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "nodes:\n  a: {type: play, prompt: hello, next: nowhere}\n",
            "t.yaml:2: node 'a': exit 'next' goes to node 'nowhere', which does not exist",
        ),
        (
            "nodes:\n  a: {type: call, flow: missing, next: b}\n  b: {type: hangup}\n",
            "t.yaml:2: node 'a': sub-flow 'missing' does not exist",
        ),
        (
            "nodes:\n  a: {type: hangup}\n  b: {type: hangup}\n",
            "t.yaml:3: node 'b': unreachable",
        ),
        (
            "nodes:\n  a:\n    type: menu\n    choices: {1: a, 1: b, 0: a}\n    on_fail: b\n"
            "  b: {type: hangup}\n",
            "t.yaml:4: node 'a': duplicate menu digit '1'",
        ),
        (
            "nodes:\n  a: {type: set, values: {x: 1}, next: b}\n"
            "  b:\n    type: branch\n    when: [{if: x == 1, goto: a}]\n    else: c\n  c: {type: hangup}\n",
            "t.yaml:2: node 'a': loop without caller input can spin forever: a -> b",
        ),
        (
            "nodes:\n  a: {type: play, prompt: [hello, nope], next: b}\n  b: {type: hangup}\n",
            "t.yaml:2: node 'a': prompt 'nope' is not in the 'en' prompt catalogue",
        ),
        (
            "nodes:\n  a:\n    type: lookup\n    query: horoscope\n"
            "    found: b\n    not_found: b\n    error: b\n"
            "  b: {type: hangup}\n",
            "t.yaml:2: node 'a': unknown lookup 'horoscope'",
        ),
        (
            "nodes:\n  a:\n    type: lookup\n    query: order_status\n    params: {id: '1'}\n"
            "    found: b\n    not_found: b\n    error: b\n  b: {type: hangup}\n",
            "t.yaml:2: node 'a': lookup 'order_status' takes parameters (order), got (id)",
        ),
        ("nodes:\n  a: {type: juggle}\n", "t.yaml:2: node 'a': unknown node type 'juggle'"),
        ("nodes:\n  a: {type: play, next: a, colour: red}\n", "t.yaml:2: node 'a': unknown field 'colour'"),
    ],
)
def test_each_error_kind_is_reported_at_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    report = _check(tmp_path, t=text)
    assert not report.ok
    errors = _errors(report, tmp_path)
    assert any(e.startswith(expected) for e in errors), errors


def test_a_loop_through_a_menu_is_fine(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        t="nodes:\n  a: {type: play, prompt: hello, next: m}\n"
        "  m: {type: menu, prompt: menu, choices: {'1': a, '0': b}, on_fail: b}\n  b: {type: hangup}\n",
    )
    assert report.ok, _errors(report, tmp_path)


def test_warnings_do_not_fail_the_check(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        t="nodes:\n  m: {type: menu, prompt: menu, choices: {'1': b}, on_fail: b}\n"
        "  b: {type: hangup, text: '{{ mystery }}'}\n",
    )
    assert report.ok
    warnings = [str(p).replace(f"{tmp_path}/", "") for p in report.warnings]
    assert "t.yaml:2: node 'm': menu has no '0' choice: callers expect 0 to reach an agent" in warnings
    assert "t.yaml:3: node 'b': variable 'mystery' is never set by any flow" in warnings
    assert any("have no audio yet" in w for w in warnings)
    assert all(p.severity is Severity.WARNING for p in report.warnings)


def test_sub_flows_resolve_across_files(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        main="nodes:\n  a: {type: call, flow: sub, next: b}\n  b: {type: hangup}\n",
        sub="nodes:\n  r: {type: return}\n",
    )
    assert report.ok, _errors(report, tmp_path)


def test_sub_flow_calls_back_into_the_calling_flow_are_errors(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        main="nodes:\n  a: {type: call, flow: sub, next: b}\n  b: {type: hangup}\n",
        sub="nodes:\n  s: {type: call, flow: deeper, next: r}\n  r: {type: return}\n",
        deeper="nodes:\n  d: {type: call, flow: main, next: r}\n  r: {type: return}\n",
        itself="nodes:\n  i: {type: call, flow: itself, next: h}\n  h: {type: hangup}\n",
    )
    errors = _errors(report, tmp_path)
    assert any(
        e.startswith(
            "main.yaml:2: node 'a': sub-flow calls come back to this flow (main -> sub -> deeper -> main)"
        )
        for e in errors
    ), errors
    assert any(
        e.startswith("itself.yaml:2: node 'i': sub-flow calls come back to this flow (itself -> itself)")
        for e in errors
    ), errors
    assert sum("come back" in e for e in errors) == 4, errors  # main, sub, deeper and itself


def test_a_sub_flow_called_from_two_places_is_no_cycle(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        main="nodes:\n  a: {type: call, flow: left, next: b}\n  b: {type: call, flow: right, next: c}\n"
        "  c: {type: hangup}\n",
        left="nodes:\n  l: {type: call, flow: shared, next: r}\n  r: {type: return}\n",
        right="nodes:\n  l: {type: call, flow: shared, next: r}\n  r: {type: return}\n",
        shared="nodes:\n  r: {type: return}\n",
    )
    assert report.ok, _errors(report, tmp_path)


def test_known_lookups_match_the_storage_layer() -> None:
    from ivr_engine.storage.lookups import LOOKUPS

    assert set(KNOWN_LOOKUPS) == set(LOOKUPS)
    for name, spec in LOOKUPS.items():
        assert KNOWN_LOOKUPS[name].params == frozenset(spec.params), name
        assert KNOWN_LOOKUPS[name].values == frozenset(spec.values), name


def test_cli_validate_passes_on_the_shipped_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["validate", "flows/"])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_cli_validate_fails_on_a_broken_flow_with_readable_output(tmp_path: Path) -> None:
    broken = "nodes:\n  a: {type: play, prompt: welcome, next: b}\n  c: {type: nope}\n"
    (tmp_path / "broken.yaml").write_text(broken)
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    shown = [" ".join(line.split()) for line in result.output.splitlines()]
    missing_target = "broken.yaml:2 error node 'a' exit 'next' goes to node 'b', which does not exist"
    assert any(line.endswith(missing_target) for line in shown), result.output
    assert any("broken.yaml:3 error node 'c' unknown node type 'nope'" in line for line in shown)
    assert "Traceback" not in result.output
    assert "1 flow checked: 2 errors" in result.output


def test_cli_validate_says_when_there_is_nothing_to_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code != 0
    assert "no flow files" in result.output
