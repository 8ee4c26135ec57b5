"""acd.yaml: the lab's file loads; mistakes are reported with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd import AcdConfigError, EscalationStep, Strategy, load_acd_config, parse_acd_config

REPO_FILE = Path(__file__).resolve().parents[2] / "acd.yaml"


def test_the_repo_file_holds_the_lab_agents_and_queues() -> None:
    config = load_acd_config(REPO_FILE)
    agents = {a.id: (a.name, a.endpoint, dict(a.skills)) for a in config.agents}
    assert agents == {
        "1001": ("Agent 1001", "PJSIP/1001", {"general": 5, "billing": 8}),
        "1002": ("Agent 1002", "PJSIP/1002", {"general": 5, "orders": 9, "loyalty": 6}),
        "1003": ("Agent 1003", "PJSIP/1003", {"general": 7}),
    }
    queues = {q.name: q for q in config.queues}
    assert {"general", "billing", "orders", "loyalty"} <= set(queues)
    general = queues["general"]
    assert (general.skills, general.ring_timeout, general.max_wait) == ({"general": 1}, 15, 120)
    assert queues["orders"].escalation[0] == EscalationStep(30, "orders", 1)
    assert queues["loyalty"].strategy is Strategy.ROUND_ROBIN
    assert {name for name, q in queues.items() if q.record} == {"billing"}  # recording is opt-in per queue


@pytest.mark.parametrize(("text", "message"), [
    ("queues:\n  - name: a\n    skills: {x: 11}\n", "t.yaml:3: level of 'x'"),
    ("queues:\n  - name: a\n    strategy: bogus\n", "t.yaml:3: unknown strategy 'bogus'"),
    ("queues:\n  - name: a\n    ring_timeout: 0\n", "t.yaml:3: ring_timeout of queue a must be above 0"),
    ("queues:\n  - name: a\n    colour: red\n", "t.yaml:3: unknown key 'colour'"),
    ("queues:\n  - name: a\n    overflow: voicemail\n", "t.yaml:3: 'overflow' is not read: a caller"),
    ("queues:\n  - name: a\n  - name: a\n", "t.yaml:3: queue 'a' is defined twice"),
    ("agents:\n  - id: '1'\n    skills: {}\nqueues:\n  - name: a\n", "t.yaml:2: agent #1 needs 'endpoint'"),
    ("queues:\n  - name: a\n    skills: {x: 2}\n    escalation:\n      - {after: 5, skill: y, drop: true}\n",
     "t.yaml:5: an escalation step of queue a names skill 'y'"),
    ("queues:\n  - name: a\n    record: maybe\n", "t.yaml:3: record of queue a must be true or false"),
    ("queues: [\n", "t.yaml:2: not valid YAML"),
    ("", "t.yaml: empty file"),
])
def test_mistakes_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(AcdConfigError) as caught:
        parse_acd_config(text, "t.yaml")
    assert str(caught.value).startswith(message)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(AcdConfigError, match="cannot read"):
        load_acd_config(tmp_path / "nope.yaml")
