"""``ivr simulate`` against a real (SQLite) database made by ``ivr db init`` and ``ivr db seed``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.masking import shows_value
from tests.seeded_cli import invoke, seeded_cli

ROOT = Path(__file__).parents[2]


@pytest.fixture
def ivr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(ROOT)
    return seeded_cli(tmp_path, monkeypatch)


def test_simulate_balance_speaks_the_balance(ivr: CliRunner, tmp_path: Path) -> None:
    result = invoke(
        ivr, tmp_path, "simulate", "flows/balance.yaml", "--caller", "15550001001", "--digits", "100200#4321#"
    )
    assert result.exit_code == 0, result.output
    assert "said: Your available balance is" in result.output
    assert "said: [money] 1234.56" in result.output
    assert "4321" not in result.output.replace("--digits", "")
    assert "pressed: ****" in result.output


def test_simulate_json_is_stored_as_a_call(ivr: CliRunner, tmp_path: Path) -> None:
    result = invoke(
        ivr, tmp_path, "simulate", "balance", "--caller", "15550001001", "--digits", "100200#4321#", "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    steps = {step["node"]: step for step in data["steps"]}
    assert steps["check_account"]["outcome"] == "found"
    assert steps["ask_pin"]["input"] == "****"
    assert {"kind": "said", "text": "[money] 1234.56"} in steps["say_balance"]["heard"]
    assert data["dialled"] == "101"
    shown = invoke(ivr, tmp_path, "calls", "show", data["call_id"], "--json")
    assert shown.exit_code == 0, shown.output
    assert "check_account" in shown.output
    assert not shows_value(shown.output, "4321")


def test_simulate_wrong_pin_three_times_locks_out(ivr: CliRunner, tmp_path: Path) -> None:
    result = invoke(ivr, tmp_path, "simulate", "balance", "--digits", "100200#1111#" * 3 + "9")
    assert result.exit_code == 0, result.output
    assert "For your security" in result.output
    assert result.output.count("-> not_found") == 3


def test_simulate_hours_with_at_and_timeout_at(ivr: CliRunner, tmp_path: Path) -> None:
    result = invoke(
        ivr,
        tmp_path,
        "simulate",
        "main",
        "--caller",
        "15550001001",
        "--digits",
        "0",
        "--at",
        "2026-12-25 10:00-05:00",
    )
    assert result.exit_code == 0, result.output
    assert "-> closed" in result.output
    timed = invoke(ivr, tmp_path, "simulate", "main", "--digits", "9", "--timeout-at", "0", "--json")
    data = json.loads(timed.output)
    menu = next(step for step in data["steps"] if step["node"] == "main_menu")
    assert any(entry["kind"] == "timeout" for entry in menu["heard"])


def test_simulate_reports_bad_arguments_without_a_traceback(ivr: CliRunner, tmp_path: Path) -> None:
    bad_digits = invoke(ivr, tmp_path, "simulate", "balance", "--digits", "12x")
    assert bad_digits.exit_code == 2
    assert "not a key or T" in bad_digits.output
    missing = invoke(ivr, tmp_path, "simulate", "nosuchflow")
    assert missing.exit_code == 2
    assert "no flow file" in missing.output
    bad_time = invoke(ivr, tmp_path, "simulate", "main", "--at", "Christmas")
    assert bad_time.exit_code == 2
    assert "Traceback" not in bad_digits.output + missing.output + bad_time.output
