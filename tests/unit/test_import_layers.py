"""The import structure: no loop between the service's parts, the ACD's pure core does no I/O.

Read from the source with ``ast`` (nothing is imported), so a loop that Python happens to tolerate at run
time (an import inside a function, a name only used in annotations) still counts. A unit is a subpackage
or top-level module of ``ivr_engine`` (``ivr_engine.service``, ``ivr_engine.metrics``), the ACD's pure
core (the modules in ``PURE_CORE``) or any other module or subpackage of ``acd`` (``acd.live``).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PURE_CORE = frozenset({
    "agent_state", "config", "engine", "errors", "estimate", "events", "matching", "model", "routing",
    "store", "strategies",
})
"""``acd`` modules that make up the pure router: no I/O, no asyncio, no ``ivr_engine``."""
_IO = ("ivr_engine", "asyncio", "aiohttp", "sqlalchemy", "psycopg", "socket", "subprocess", "time")


def _modules() -> Iterator[tuple[str, Path]]:
    for top in ("ivr_engine", "acd"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "acd":
        return "acd" if len(parts) == 1 or parts[1] in PURE_CORE else f"acd.{parts[1]}"
    if parts[0] == "ivr_engine" and len(parts) > 1:
        return f"ivr_engine.{parts[1]}"
    return None


def unit_graph() -> dict[str, dict[str, set[str]]]:
    """unit -> unit it imports -> the files that do."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    known = {module for module, _ in _modules()}
    for module, path in _modules():
        source = unit_of(module)
        for name in _imports(path):
            if name not in known:
                continue  # "from acd import Agent" also yields "acd.Agent": only real modules count
            target = unit_of(name)
            if source and target and target != source:
                graph[source][target].add(str(path.relative_to(ROOT)))
    return graph


def loops(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """Strongly connected components of more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(unit: str) -> None:
        index[unit] = low[unit] = len(index)
        stack.append(unit)
        for target in graph.get(unit, {}):
            if target not in index:
                visit(target)
                low[unit] = min(low[unit], low[target])
            elif target in stack:
                low[unit] = min(low[unit], index[target])
        if low[unit] == index[unit]:
            component: list[str] = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == unit:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for unit in sorted(graph):
        if unit not in index:
            visit(unit)
    return found


def test_no_import_loop_between_units() -> None:
    graph = unit_graph()
    described = [
        [f"{a} -> {b} ({', '.join(sorted(graph[a][b]))})" for a in loop for b in loop if b in graph[a]]
        for loop in loops(graph)
    ]
    assert described == []


def test_the_loop_finder_finds_a_loop() -> None:
    graph: dict[str, dict[str, set[str]]] = {"a": {"b": {"x"}}, "b": {"c": {"y"}}, "c": {"a": {"z"}}, "d": {}}
    assert loops(graph) == [["a", "b", "c"]]


def test_the_call_contract_sits_below_the_service_and_the_acd() -> None:
    graph = unit_graph()
    assert set(graph["ivr_engine.calls"]) <= {"ivr_engine.channel"}
    assert "ivr_engine.calls" in graph["ivr_engine.service"]
    above = {"ivr_engine.service", "ivr_engine.control", "ivr_engine.web"}
    assert not above & set(graph["acd.live"])


def test_the_acd_core_does_no_io() -> None:
    offenders = sorted(
        f"{module} imports {name}"
        for module, path in _modules()
        if unit_of(module) == "acd"
        for name in _imports(path)
        if name.split(".")[0] in _IO
    )
    assert offenders == []
    assert {f"acd.{name}" for name in PURE_CORE} <= {module for module, _ in _modules()}
