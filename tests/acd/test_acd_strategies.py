"""Routing strategies are objects in a registry: every name the schema knows has one, and a name
without one is a configuration error naming the file or the queue, never a silent round-robin."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import acd.strategies
from acd import Acd, Agent, AgentState, Queue, Strategy, UnknownStrategy, parse_acd_config, strategy_for
from acd.routing import RoutingInput, choose_agent

REPO_FILE = Path(__file__).resolve().parents[2] / "acd.yaml"


def _documented_strategies() -> list[str]:
    """The strategy names listed under ``strategy`` in acd.yaml's own comments (the file's schema)."""
    lines = REPO_FILE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"#\s+strategy\s", line))
    names = []
    for line in lines[start + 1:]:
        match = re.match(r"#\s{20,}([a-z]+(?:-[a-z]+)+)\s", line)
        if match is None:
            break
        names.append(match.group(1))
    return names


def test_every_strategy_name_in_the_schema_has_a_strategy() -> None:
    assert set(acd.STRATEGIES) == set(Strategy)
    for name in Strategy:
        assert strategy_for(name).name is name
        assert strategy_for(name.value).name is name


def test_every_strategy_acd_yaml_documents_has_a_strategy_and_none_is_undocumented() -> None:
    documented = _documented_strategies()
    assert documented == [s.value for s in acd.STRATEGIES]


def _agent(agent_id: str, since: float, calls: int, **skills: int) -> Agent:
    return Agent(agent_id, agent_id, f"PJSIP/{agent_id}", skills, state=AgentState.READY, state_since=since,
                 calls_taken=calls)


# a: ready longest, most calls, low skill; b: fewest calls; c: best skill; d: round robin after "b".
_POOL = (_agent("a", 1.0, 9, general=2), _agent("b", 5.0, 0, general=3), _agent("c", 6.0, 4, general=9),
         _agent("d", 7.0, 4, general=3))


@pytest.mark.parametrize(("strategy", "chosen", "why"), [
    (Strategy.LONGEST_IDLE, "a", "longest idle: ready for 9s"),
    (Strategy.FEWEST_CALLS, "b", "fewest calls: 0 taken"),
    (Strategy.BEST_SKILL, "c", "best skill: general 9"),
    (Strategy.ROUND_ROBIN, "c", "round robin: next in turn after the last agent offered"),
])
def test_each_strategy_ranks_and_says_why(strategy: Strategy, chosen: str, why: str) -> None:
    ranking = strategy_for(strategy)
    best = min(_POOL, key=lambda a: ranking.rank(a, {"general": 1}, "b"))
    assert (best.id, ranking.why(best, {"general": 1}, 10.0)) == (chosen, why)
    decision = choose_agent(RoutingInput({"general": 1}, _POOL, strategy, 10.0, rr_cursor="b"))
    assert decision is not None
    assert (decision.chosen, decision.why) == (chosen, why)


def test_an_unknown_strategy_in_acd_yaml_names_the_file_line_and_queue() -> None:
    with pytest.raises(UnknownStrategy) as caught:
        parse_acd_config("queues:\n  - name: sales\n    strategy: most-polite\n", "centre.yaml")
    assert str(caught.value) == (
        "centre.yaml:3: unknown strategy 'most-polite' in queue sales "
        "(one of: longest-idle, fewest-calls, best-skill, round-robin)"
    )
    assert (caught.value.source, caught.value.line, caught.value.queue) == ("centre.yaml", 3, "sales")


def test_a_queue_built_in_code_with_an_unknown_strategy_is_refused_naming_the_queue() -> None:
    bogus: Any = "most-polite"
    with pytest.raises(UnknownStrategy, match="unknown strategy 'most-polite' in queue sales"):
        Acd([Queue("general", {}), Queue("sales", {}, strategy=bogus)])


def test_the_router_never_falls_back_to_round_robin() -> None:
    bogus: Any = "most-polite"
    with pytest.raises(UnknownStrategy):
        choose_agent(RoutingInput({"general": 1}, _POOL, bogus, 10.0))


def test_a_schema_name_missing_from_the_registry_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    without = {name: s for name, s in acd.strategies.STRATEGIES.items() if name is not Strategy.BEST_SKILL}
    monkeypatch.setattr(acd.strategies, "STRATEGIES", without)
    with pytest.raises(UnknownStrategy, match="unknown strategy 'best-skill' in queue q"):
        Acd([Queue("q", {}, strategy=Strategy.BEST_SKILL)])
