"""The hostile flow files of issue 16: each gives a clear error in bounded time and memory, never a
traceback or a hang (loader, validator, ``ivr validate`` and the flows ``ivr serve`` loads)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from ivr_engine.flow.errors import FlowError
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.loader import load_flow
from ivr_engine.flow.patterns import pattern_problem
from ivr_engine.flow.validator import validate_paths

from .conftest import FLOWS

HUGE = "9" * 400
_BALANCE = (FLOWS / "balance.yaml").read_text()


def _problems(path: Path) -> list[str]:
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    return [f"{p.line}: {p.message}" for p in caught.value.problems]


@pytest.mark.parametrize(
    ("field", "line"), [("retries", 4), ("timeout", 5), ("max_digits", 6), ("inter_digit_timeout", 7)]
)
def test_a_400_digit_number_is_out_of_range_not_an_overflow(tmp_path: Path, field: str, line: int) -> None:
    values = {"retries": 1, "timeout": 5, "max_digits": 4, "inter_digit_timeout": 3} | {field: HUGE}
    text = (
        "nodes:\n  ask:\n    type: gather\n"
        + "".join(f"    {name}: {value}\n" for name, value in values.items())
        + "    into: x\n    next: ask\n    on_fail: ask\n"
    )
    path = tmp_path / "t.yaml"
    path.write_text(text)
    assert any(p.startswith(f"{line}: '{field}' must be from") for p in _problems(path))


def test_a_400_digit_default_is_a_clear_error_at_service_start(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(f"defaults: {{retries: {HUGE}}}\nnodes:\n  a: {{type: hangup}}\n")
    with pytest.raises(FlowError) as caught:
        FlowLibrary.from_paths([tmp_path])
    assert "'retries' must be from 0 to 20" in str(caught.value)


def test_twelve_hundred_chained_flows_need_no_recursion(tmp_path: Path) -> None:
    for i in range(1200):
        (tmp_path / f"f{i}.yaml").write_text(
            f"nodes:\n  c: {{type: call, flow: f{i + 1}, next: r}}\n  r: {{type: return}}\n"
        )
    (tmp_path / "f1200.yaml").write_text("nodes:\n  r: {type: return}\n")
    report = validate_paths([tmp_path], catalogue=None)
    assert report.ok, report.errors[:3]
    (tmp_path / "f1200.yaml").write_text(
        "nodes:\n  c: {type: call, flow: f0, next: r}\n  r: {type: return}\n"
    )
    report = validate_paths([tmp_path], catalogue=None)
    cycles = [p for p in report.errors if "come back" in p.message]
    assert len(cycles) == 1201
    assert "f0 -> f1 -> f2" in cycles[0].message


def test_thirty_chained_four_kilobyte_flows_are_checked_in_seconds(tmp_path: Path) -> None:
    for i in range(30):
        calls = "".join(f"  c{j}: {{type: call, flow: f{i + 1}, next: c{j + 1}}}\n" for j in range(100))
        (tmp_path / f"f{i}.yaml").write_text(f"nodes:\n{calls}  c100: {{type: return}}\n")
    (tmp_path / "f30.yaml").write_text("nodes:\n  r: {type: return}\n")
    started = time.perf_counter()
    report = validate_paths([tmp_path], catalogue=None)
    assert report.ok
    assert time.perf_counter() - started < 30  # exponential before: past 90 s


def test_alias_amplification_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 {type: goto, goto: x}"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 8)]
    merge = ["m0: &m0 {k0: 1}"] + [
        f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: 1}}" for i in range(1, 40)
    ]
    path = tmp_path / "t.yaml"
    for text in ("\n".join([*lines, "nodes: {x: *a7}\n"]), "\n".join([*merge, "nodes: {x: *m39}\n"])):
        path.write_text(text)
        assert _problems(path) == [
            "1: YAML aliases (*name) expand this file to more than 50000 values: too large for a flow"
        ]


def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    (tmp_path / "good.yaml").write_text("nodes:\n  a: {type: hangup}\n")
    assert _problems(fifo) == ["0: not a regular file (a folder, FIFO or device cannot be a flow)"]
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "pipe.yaml  error" in result.output


def test_a_link_to_dev_zero_and_a_huge_file_are_refused(tmp_path: Path) -> None:
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")
    assert _problems(zero) == ["0: not a regular file (a folder, FIFO or device cannot be a flow)"]
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (300 * 1024) + "\nnodes: {}\n")
    assert _problems(big) == ["0: larger than 256 KiB: too large for a flow"]


def test_control_characters_in_problems_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        'nodes:\n  "x\\e]0;pwned\\a\\ny": {type: hangup}\n  a: {type: play, "\\e[2J": 1, next: a}\n'
    )
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    shown = str(caught.value)
    assert "\x1b" not in shown
    assert "\x07" not in shown
    assert "x\\x1b]0;pwned\\x07\\ny" in shown
    assert shown.count("\n") == len(caught.value.problems)  # one line per problem


@pytest.mark.parametrize(
    "pattern",
    [r"(\d+)+x", r"(\d*)*", r"(\d?){25}\d{25}", r"(12|1)+3", r"\d*\d*\d*\d*5", r"((1+)2)+", "x" * 201],
)
def test_patterns_that_backtrack_badly_are_refused(tmp_path: Path, pattern: str) -> None:
    assert pattern_problem(pattern) is not None
    path = tmp_path / "balance.yaml"
    path.write_text(_BALANCE.replace('pattern: "[0-9]+"', f"pattern: '{pattern}'", 1))
    assert any(p.startswith("20: 'pattern'") for p in _problems(path))


@pytest.mark.parametrize(
    "pattern", [r"[0-9]+", r"\d{4}", r"[0-9]{6,10}", r"(1|2)*", r"(?:\d{3})+", r"1\d{3}#?"]
)
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    assert pattern_problem(pattern) is None


def test_ivr_serve_refuses_a_hostile_flow_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.seeded_cli import invoke, seeded_cli

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "main.yaml").write_text(f"defaults: {{timeout: {HUGE}}}\nnodes:\n  a: {{type: hangup}}\n")
    runner = seeded_cli(tmp_path, monkeypatch)
    monkeypatch.setenv("IVR_FLOWS_DIR", str(flows))
    monkeypatch.setenv("IVR_ARI_PASSWORD", "test-secret")
    result = invoke(runner, tmp_path, "serve")
    assert result.exit_code == 1, result.output
    assert "'timeout' must be from 0.5 to 600" in result.output
    assert "run `ivr validate" in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, OverflowError)
