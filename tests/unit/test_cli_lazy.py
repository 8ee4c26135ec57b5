"""``ivr --help`` imports no command module (it stays fast); the command table matches the commands."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import ivr_engine.commands
from cli import main
from ivr_engine.commands import COMMANDS, LazyCommand, first_paragraph

ROOT = Path(__file__).parents[2]

HEAVY = ("sqlalchemy", "aiohttp", "openpyxl", "alembic", "jinja2", "psycopg", "prometheus_client", "pyttsx3")

_PROBE = """
import json, sys
import cli
code = cli.main.main(["--help"], prog_name="ivr", standalone_mode=False)
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in list(os.environ):
        if name.startswith("IVR_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}


def test_top_level_help_imports_no_command_module(tmp_path: Path, clean_env: dict[str, str]) -> None:
    report = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(report)],
        cwd=tmp_path,
        env={**clean_env, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(report.read_text())
    assert data["code"] == 0
    modules = set(data["modules"])
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []
    loaded_commands = [m for m in modules if m.startswith("ivr_engine.commands.")]
    assert loaded_commands == []
    lines = done.stdout.splitlines()
    for name, entry in COMMANDS.items():  # every command listed, with its summary
        assert any(line.split()[:1] == [name] and entry.summary[:20] in line for line in lines), name


def test_the_help_lists_exactly_the_table(clean_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    section = result.output.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in section if line.strip()] == sorted(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_table_entry_resolves_to_its_command_with_help(name: str, clean_env: dict[str, str]) -> None:
    entry = COMMANDS[name]
    command = entry.load()
    assert command.name == name
    assert command.help
    assert first_paragraph(command.help) == entry.summary, "update the summary in ivr_engine/commands"
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: main {name}")


def test_every_command_module_is_in_the_table() -> None:
    tabled = {(entry.module, entry.attr) for entry in COMMANDS.values()}
    found = set()
    for info in pkgutil.iter_modules(ivr_engine.commands.__path__):
        module = importlib.import_module(f"ivr_engine.commands.{info.name}")
        for attr in getattr(module, "__all__", []):
            if isinstance(getattr(module, attr), click.Command):
                found.add((info.name, attr))
    assert found == tabled


def test_a_wrong_table_entry_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match=r"ivr_engine\.commands\.calls\.T is not a click command"):
        LazyCommand("calls", "T", "x").load()
