"""``--json`` on list and status commands that need no running service (agent, queue: tests/control)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main
from ivr_engine.web import Role, UserFile, WebUser
from tests.seeded_cli import invoke, seeded_cli


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("IVR_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _ivr(state: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--state-dir", str(state), *args], env=env)


@pytest.mark.parametrize("report", ["nodes", "acd"])
def test_stats_json_is_format_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: str) -> None:
    runner = seeded_cli(tmp_path, monkeypatch)
    as_json = invoke(runner, tmp_path, "stats", report, "--json")
    as_format = invoke(runner, tmp_path, "stats", report, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert as_json.output == as_format.output
    assert [t["name"] for t in json.loads(as_json.output)["tables"]]
    both = invoke(runner, tmp_path, "stats", report, "--json", "--format", "csv")
    assert both.exit_code == 2
    assert "--json and --format csv ask for two formats" in both.output


def test_lab_status_json_of_a_lab_never_started(tmp_path: Path) -> None:
    state = tmp_path / "state"
    result = _ivr(state, "lab", "status", "--json", env={"IVR_HTTP_PORT": "8123"})
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["state_dir"] == str(state)
    assert data["running"] is False
    assert [(c["component"], c["running"], c["pid"]) for c in data["components"]] == [
        ("asterisk", False, None),
        ("serve", False, None),
    ]
    assert data["logs"]["serve"] == str(state / "log" / "serve.log")
    assert data["web"] == "http://127.0.0.1:8123"
    assert data["lab_passwords"] is None
    assert not state.exists()


def test_prompts_list_json(tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    (sounds / "en").mkdir(parents=True)
    (sounds / "prompts.yaml").write_text('en:\n  welcome: "Welcome."\n  goodbye: "Goodbye."\n')
    (sounds / "en" / "goodbye.wav").write_bytes(b"RIFF")  # audio not from the current build
    result = _ivr(tmp_path / "state", "prompts", "list", "--json", env={"IVR_SOUNDS_DIR": str(sounds)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"id": "welcome", "lang": "en", "built": "no", "text": "Welcome."},
        {"id": "goodbye", "lang": "en", "built": "outdated", "text": "Goodbye."},
    ]


def test_web_user_list_json(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = UserFile.in_state_dir(state)
    store.add(WebUser("zoe", Role.SUPERVISOR, None), "pw-zoe-123456")
    store.add(WebUser("ann", Role.AGENT, "1001"), "pw-ann-123456")
    result = _ivr(state, "web", "user", "list", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"name": "ann", "role": "agent", "agent_id": "1001"},
        {"name": "zoe", "role": "supervisor", "agent_id": None},
    ]
    assert "pw-" not in result.output
