"""Read-only commands never create a database or state folder; unknown filters are usage errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main
from tests.seeded_cli import invoke, seeded_cli

ACD_YAML = """\
agents:
  - {id: "7001", name: Ann, endpoint: PJSIP/7001, skills: {sales: 5}}
  - {id: "7002", name: Bob, endpoint: PJSIP/7002, skills: {sales: 3}}
queues:
  - {name: sales, skills: {sales: 1}}
  - {name: returns, skills: {sales: 2}}
"""


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory; no ``IVR_*`` variable from the caller's shell."""
    for name in list(os.environ):
        if name.startswith("IVR_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def _ivr(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


READ_ONLY = [
    ("calls", "list"),
    ("calls", "list", "--json"),
    ("calls", "show", "c1"),
    ("stats", "nodes"),
    ("stats", "acd", "--format", "json"),
    ("sipp", "generate", "balance", "--path", "1#"),
    ("db", "seed"),
]


@pytest.mark.parametrize("args", READ_ONLY, ids=[" ".join(a) for a in READ_ONLY])
def test_a_missing_database_is_reported_and_not_created(cwd: Path, tmp_path: Path, args: tuple[str]) -> None:
    state = tmp_path / "state"
    result = _ivr(*args, env={"IVR_STATE_DIR": str(state)})
    assert result.exit_code == 1, result.output
    assert f"Error: no database at {state / 'ivr.db'}: run `ivr db init` first" in result.output
    assert not state.exists()
    assert list(cwd.iterdir()) == []


def test_agent_commands_do_not_create_a_token_or_state_folder(cwd: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    result = _ivr("--state-dir", str(state), "agent", "list")
    assert result.exit_code == 1
    assert "no control token in" in result.output
    assert "is the service running with this state folder?" in result.output
    assert not state.exists()


def test_a_relative_state_dir_is_read_from_the_cwd_once(cwd: Path) -> None:
    result = _ivr("--state-dir", "here", "calls", "list")
    assert f"no database at {cwd / 'here' / 'ivr.db'}" in result.output


@pytest.fixture
def custom_site(cwd: Path, tmp_path: Path) -> dict[str, str]:
    """Flows folder with flows `alpha` (named by its `flow:` key) and `beta` (by its file); an acd.yaml."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "one.yaml").write_text("flow: alpha\nnodes:\n  bye: {type: hangup}\n")
    (flows / "beta.yaml").write_text("nodes: [this is broken\n")
    (tmp_path / "acd.yaml").write_text(ACD_YAML)
    return {
        "IVR_FLOWS_DIR": str(flows),
        "IVR_AGENTS_FILE": str(tmp_path / "acd.yaml"),
        "IVR_STATE_DIR": str(tmp_path / "state"),
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("stats", "nodes", "--flow", "main"), "--flow: no flow 'main' in {flows} (known: alpha, beta)"),
        (
            ("stats", "acd", "--queue", "general"),
            "--queue: no queue 'general' in {acd} (known: returns, sales)",
        ),
        (("stats", "acd", "--agent", "1001"), "--agent: no agent '1001' in {acd} (known: 7001, 7002)"),
    ],
)
def test_an_unknown_filter_is_a_usage_error_naming_the_known_ones(
    custom_site: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = _ivr(*args, env=custom_site)
    assert result.exit_code == 2, result.output
    expected = message.format(flows=custom_site["IVR_FLOWS_DIR"], acd=custom_site["IVR_AGENTS_FILE"])
    assert f"Invalid value for {expected}" in result.output


def test_a_known_filter_reaches_the_database(custom_site: dict[str, str]) -> None:
    known = [("stats", "nodes", "--flow", "beta"), ("stats", "acd", "--queue", "sales", "--agent", "7002")]
    for args in known:
        result = _ivr(*args, env=custom_site)
        assert result.exit_code == 1, result.output
        assert "no database at" in result.output  # past the filter check


def test_an_unreadable_acd_file_is_a_clear_error(custom_site: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "acd.yaml").write_text("queues: [")
    result = _ivr("stats", "acd", "--queue", "sales", env=custom_site)
    assert result.exit_code == 1
    assert f"Error: cannot check the filter: {tmp_path / 'acd.yaml'}" in result.output
    assert "Traceback" not in result.output


def test_filters_on_the_project_flows_and_queues_with_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = seeded_cli(tmp_path, monkeypatch)
    nodes = invoke(runner, tmp_path, "stats", "nodes", "--flow", "balance", "--json")
    assert nodes.exit_code == 0, nodes.output
    acd = invoke(runner, tmp_path, "stats", "acd", "--queue", "billing", "--json")
    assert acd.exit_code == 0, acd.output
    wrong = invoke(runner, tmp_path, "stats", "acd", "--queue", "bililng")
    assert wrong.exit_code == 2
    assert "known: billing, general, loyalty, orders" in wrong.output
