"""``ivr simulate`` with absurd digit scripts and caller ids: a result or a usage error, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main

from .conftest import ROOT


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("simulate") / "state"
    for command in (["db", "init"], ["db", "seed"]):
        result = CliRunner().invoke(main, ["--state-dir", str(folder), *command])
        assert result.exit_code == 0, result.output
    return folder


def _simulate(state: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.chdir(ROOT)
    for name in ("IVR_CONFIG", "IVR_DATABASE_URL", "IVR_STATE_DIR"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner().invoke(main, ["--state-dir", str(state), "simulate", *args])


@pytest.mark.parametrize(
    ("flow", "digits", "last_node"),
    [
        ("balance", "7" * 500 + "#", "goodbye"),
        ("balance", "*" * 3000, "goodbye"),
        ("main", "#" * 3000, "goodbye"),
        ("main", "ABCD" * 500, "goodbye"),
        ("order_status", "T" * 400, "goodbye"),
        ("main", "1 0 0 2 0 0 # " * 300, "goodbye"),
    ],
    ids=["500-digit-account", "stars", "pounds", "letters", "all-timeouts", "repeated-paths"],
)
def test_absurd_scripts_run_to_an_exit(
    state: Path, monkeypatch: pytest.MonkeyPatch, flow: str, digits: str, last_node: str
) -> None:
    result = _simulate(state, monkeypatch, flow, "--digits", digits, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["result"]["reason"] in {"completed", "caller_hangup"}, data["result"]
    assert data["result"]["node"] == last_node or data["result"]["reason"] == "caller_hangup"


@pytest.mark.parametrize(
    "args",
    [
        ["--digits", "12x"],
        ["--digits", "☎"],
        ["--digits", "1\x002"],
        ["--digits", "12", "--timeout-at", "1000000"],
        ["--digits", "12", "--timeout-at", "-1"],
        ["--at", "next tuesday"],
        ["--transfer", "teleport"],
    ],
    ids=["letter-x", "unicode", "nul", "timeout-past-end", "negative-timeout", "bad-at", "bad-transfer"],
)
def test_bad_scripts_are_usage_errors(state: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    result = _simulate(state, monkeypatch, "balance", *args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert "Error:" in result.output


@pytest.mark.parametrize("caller", ["'; DROP TABLE calls; --", "Zoë ☎", "", "5" * 200])
def test_odd_caller_ids_simulate_and_are_stored(
    state: Path, monkeypatch: pytest.MonkeyPatch, caller: str
) -> None:
    record = state.parent / "simulations.db"
    result = _simulate(
        state, monkeypatch, "main", "--caller", caller, "--digits", "9", "--json", "--record-to", str(record)
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    monkeypatch.setenv("IVR_DATABASE_URL", f"sqlite:///{record}")
    shown = CliRunner().invoke(main, ["--state-dir", str(state), "calls", "show", data["call_id"], "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["caller"] == caller[:64]
