"""The ``ivr`` CLI on a seeded SQLite database in the test's own state folder (``db init`` + ``db seed``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main

__all__ = ["invoke", "seeded_cli"]


def seeded_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose state folder (``tmp_path/state``) holds a migrated, seeded database; settings
    come from that folder only (the ``IVR_*`` variables that would override it are cleared)."""
    for name in ("IVR_CONFIG", "IVR_DATABASE_URL", "IVR_STATE_DIR"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    for command in (["db", "init"], ["db", "seed"]):
        result = invoke(runner, tmp_path, *command)
        assert result.exit_code == 0, result.output
    return runner


def invoke(runner: CliRunner, tmp_path: Path, *args: str) -> Result:
    """``ivr --state-dir tmp_path/state ARGS...``."""
    return runner.invoke(main, ["--state-dir", str(tmp_path / "state"), *args])
