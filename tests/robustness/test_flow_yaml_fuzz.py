"""Fuzzed flow files through the loader, the validator and ``ivr validate``: errors with file:line, never
a traceback."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings

from cli import main
from ivr_engine.flow.errors import FlowError
from ivr_engine.flow.loader import load_flow, parse_flow
from ivr_engine.flow.schema import flow_schema
from ivr_engine.flow.validator import validate_paths

from .conftest import FLOWS
from .mutations import flow_files_bytes, mutated_flow, random_document, registry_flow

ROBUST = settings.get_profile("robustness")
_SCHEMA = jsonschema.Draft202012Validator(flow_schema())


def _problems_located(path: Path) -> bool:
    """load_flow either succeeds or raises FlowError whose every problem names the file and a line."""
    try:
        load_flow(path)
    except FlowError as exc:
        error = exc
    else:
        return True
    assert error.problems, "a FlowError must say what is wrong"
    for problem in error.problems:
        assert problem.file == str(path), problem
        assert problem.line >= 1, problem
        assert problem.message, problem
    assert f"{path}:" in str(error)
    return False


def _check(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.yaml"
        path.write_bytes(content)
        parsed = parse_flow(path)
        assert all(p.line >= 1 and p.file == str(path) for p in parsed.problems), parsed.problems
        loads = _problems_located(path)
        report = validate_paths([path], catalogue=None)
        assert all(p.line >= 1 for p in report.problems if p.file == str(path)), report.problems
        if not loads:
            assert not report.ok, "the validator passed a flow the loader refuses"
        else:  # the JSON Schema, made from the same registry, accepts what the loader accepts
            data = json.loads(json.dumps(yaml.safe_load(content), default=str))
            assert list(_SCHEMA.iter_errors(data)) == [], "the schema refuses a flow the loader accepts"


@settings(ROBUST, max_examples=120)
@given(random_document())
def test_random_documents_give_located_errors(content: bytes) -> None:
    _check(content)


@settings(ROBUST, max_examples=200)
@given(mutated_flow())
def test_mutated_shipped_flows_give_located_errors(content: bytes) -> None:
    _check(content)


_ERROR_LINE = re.compile(r"^(?P<where>\S+?):(?P<line>\d+)\s+error\s")


@settings(ROBUST, max_examples=30)
@given(flow_files_bytes())
def test_ivr_validate_never_shows_a_traceback(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.yaml"
        path.write_bytes(content)
        result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    errors = [line for line in result.output.splitlines() if "  error  " in line]
    if result.exit_code == 1:
        assert errors, result.output
    for line in errors:
        match = _ERROR_LINE.match(line)
        assert match is not None, line
        assert int(match["line"]) >= 1, line
    assert re.search(r"1 flow checked: \d+ errors?", result.output), result.output


def test_ivr_validate_passes_the_shipped_flows() -> None:
    result = CliRunner().invoke(main, ["validate", str(FLOWS)])
    assert result.exit_code == 0, result.output


# Each case below broke the loader with a traceback (or hung it) before it was fixed.
_BALANCE = (FLOWS / "balance.yaml").read_text()


def _laughs() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    return "\n".join([*lines, "nodes: {}", ""])


REGRESSIONS = {
    "impossible date": ("nodes:\n  a: {type: goto, goto: 2026-13-45}\n", 2, "bad value '2026-13-45'"),
    "recursive alias": ("x: &a [*a]\nnodes: {}\n", 1, "refers to its own anchor"),
    "deep nesting": ("nodes: " + "[" * 3000 + "]" * 3000 + "\n", 1, "nested too deeply"),
    "billion laughs": (_laughs(), 1, "YAML aliases (*name) expand this file to more than"),
    "infinite retries": (_BALANCE.replace("retries: 2,", "retries: .inf,"), 6, "finite number"),
    "NaN retries": (_BALANCE.replace("retries: 2,", "retries: .nan,"), 6, "finite number"),
    "deep condition": (
        _BALANCE.replace("if: tries >= 3", "if: " + "(" * 240 + "x" + ")" * 240),
        56,
        "nested too deeply",
    ),
    "deep regex": (
        _BALANCE.replace('pattern: "[0-9]+"', 'pattern: "' + "(" * 2000 + ")" * 2000 + '"', 1),
        20,
        "'pattern' is longer than 200 characters",
    ),
    "huge regex repeat": (
        _BALANCE.replace('pattern: "[0-9]+"', 'pattern: "a{99999999999999}"', 1),
        20,
        "too large",
    ),
    "deep template": (
        _BALANCE.replace('"{{ tries | int + 1 }}"', '"{{ ' + "(" * 3000 + "1" + ")" * 3000 + ' }}"'),
        50,
        "nested too deeply",
    ),
    "NUL character": ("nodes:\n  a: \0\n", 1, "not valid YAML"),
    "self-referencing merge": ("nodes: &n\n  <<: *n\n", 1, ""),
}


@pytest.mark.parametrize("case", sorted(REGRESSIONS))
def test_hostile_flow_files_are_clear_errors(case: str, tmp_path: Path) -> None:
    text, line, message = REGRESSIONS[case]
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    assert any(p.line == line and message in p.message for p in caught.value.problems), caught.value


def test_bad_utf8_names_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"flow: x\nnodes:\n  a: {type: hangup}\n  b: \xff\xfe\n")
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.message) == (4, "not UTF-8 text: invalid start byte (byte 0xff)")


def test_one_wrong_field_is_one_error_not_a_list_of_unknown_fields(tmp_path: Path) -> None:
    path = tmp_path / "balance.yaml"
    path.write_text(_BALANCE.replace("min_digits: 4", "min_digits: four", 1))
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    assert [(p.line, p.message) for p in caught.value.problems] == [(17, "'min_digits' must be a number")]


@settings(ROBUST, max_examples=150)
@given(registry_flow())
def test_flows_drawn_from_the_registry_report_every_node_in_one_pass(
    drawn: tuple[bytes, frozenset[str]],
) -> None:
    content, marked = drawn
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "drawn.yaml"
        path.write_bytes(content)
        report = validate_paths([path], catalogue=None)
        named = {p.node for p in report.errors if "unknown field 'zzz_unknown'" in p.message}
        assert named == marked, report.errors
        assert all(p.line >= 1 for p in report.problems if p.file == str(path)), report.problems
