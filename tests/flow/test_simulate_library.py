"""``ivr simulate`` on a flow anywhere: sub-flows come from its folder, then the shipped flows; a
broken sibling it never calls does not stop it; a walk that ends in an error exits non-zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr_engine.flow.errors import FlowError
from ivr_engine.flow.library import FlowLibrary
from tests.seeded_cli import invoke, seeded_cli

ROOT = Path(__file__).parents[2]
CALLS_AGENT = (
    "nodes:\n  hi: {type: play, prompt: goodbye, next: to_agent}\n"
    "  to_agent: {type: call, flow: agent, next: bye}\n  bye: {type: hangup}\n"
)


@pytest.fixture
def ivr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(ROOT)
    return seeded_cli(tmp_path, monkeypatch)


def _mine(tmp_path: Path, text: str = CALLS_AGENT, *, broken_sibling: bool = True) -> Path:
    folder = tmp_path / "designer"
    folder.mkdir(exist_ok=True)
    if broken_sibling:
        (folder / "wip.yaml").write_text("nodes:\n  a: {type: plya, next: nowhere}\n")
    path = folder / "mine.yaml"
    path.write_text(text)
    return path


def test_a_flow_outside_the_flows_folder_calls_the_shipped_agent_flow(ivr: CliRunner, tmp_path: Path) -> None:
    path = _mine(tmp_path)
    result = invoke(ivr, tmp_path, "simulate", str(path), "--at", "2026-12-02 07:30", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    walked = [(s["flow"], s["node"], s["outcome"]) for s in sorted(data["steps"], key=lambda s: s["seq"])]
    assert walked[:4] == [
        ("mine", "hi", "next"),
        ("mine", "to_agent", "completed"),
        ("agent", "check_hours", "closed"),
        ("agent", "after_hours", "next"),
    ]
    assert data["result"]["reason"] != "error"


def test_a_sibling_shadows_a_shipped_flow_of_the_same_name(tmp_path: Path) -> None:
    path = _mine(tmp_path, broken_sibling=False)
    (path.parent / "agent.yaml").write_text("nodes:\n  back: {type: return}\n")
    library, top = FlowLibrary.for_flow(path, [ROOT / "flows"])
    assert top.name == "mine"
    agent = library.get("agent")
    assert agent is not None
    assert agent.path == path.parent / "agent.yaml"
    assert library.names() == ["agent", "mine"]  # only what the flow needs: no voicemail, no survey


def test_a_broken_sub_flow_the_flow_needs_is_an_error_naming_it(ivr: CliRunner, tmp_path: Path) -> None:
    path = _mine(tmp_path, "nodes:\n  go: {type: call, flow: wip, next: bye}\n  bye: {type: hangup}\n")
    with pytest.raises(FlowError) as caught:
        FlowLibrary.for_flow(path, [ROOT / "flows"])
    assert "wip.yaml:2: node 'a': unknown node type 'plya'" in str(caught.value)
    result = invoke(ivr, tmp_path, "simulate", str(path))
    assert result.exit_code == 1
    assert "unknown node type 'plya'" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_sub_flow_is_an_error(tmp_path: Path) -> None:
    path = _mine(tmp_path, "nodes:\n  go: {type: call, flow: nowhere, next: bye}\n  bye: {type: hangup}\n")
    with pytest.raises(FlowError) as caught:
        FlowLibrary.for_flow(path, [ROOT / "flows"])
    assert "node 'go': sub-flow 'nowhere' is in no folder searched" in str(caught.value)


def test_a_walk_that_ends_in_an_error_exits_non_zero(ivr: CliRunner, tmp_path: Path) -> None:
    path = _mine(
        tmp_path,
        "nodes:\n  n: {type: say, kind: number, value: 'twelve', next: bye}\n  bye: {type: hangup}\n",
    )
    result = invoke(ivr, tmp_path, "simulate", str(path))
    assert result.exit_code == 1, result.output
    assert "ended: error at mine/n" in result.output
    assert "cannot say 'twelve' as number" in result.output
    ok = _mine(
        tmp_path, "nodes:\n  n: {type: say, kind: number, value: '12', next: bye}\n  bye: {type: hangup}\n"
    )
    assert invoke(ivr, tmp_path, "simulate", str(ok)).exit_code == 0
