"""Flow files -> ``Flow``: the file read safely, its YAML, the top level, each node through its type's
``read`` (``ivr_engine.flow.nodes``); every problem of the file is found in one pass, with file:line.

Layout of a flow file (see docs/flows.md)::

    flow: balance            # optional, defaults to the file name
    description: ...
    start: welcome           # optional, defaults to the first node
    defaults: {retries: 3, timeout: 5, inter_digit_timeout: 3, language: en}
    nodes:
      welcome: {type: play, prompt: balance_welcome, next: ask_account}
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ivr_engine.flow.errors import FlowError, Problem
from ivr_engine.flow.fields import IDENT, Fields
from ivr_engine.flow.filesource import FileRefused, read_flow_text
from ivr_engine.flow.hints import did_you_mean
from ivr_engine.flow.model import Flow, FlowDefaults, NodeBase, Source
from ivr_engine.flow.nodes.base import Where
from ivr_engine.flow.registry import NODE_SPECS, NODE_TYPES
from ivr_engine.flow.yamlsource import Located, parse_yaml

__all__ = ["DEFAULTS_FIELDS", "NODE_TYPES", "TOP_FIELDS", "ParsedFlow", "load_flow", "parse_flow"]

LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Za-z]{2,4})?\Z")
TOP_FIELDS = ("flow", "description", "start", "defaults", "nodes")
DEFAULTS_FIELDS = ("retries", "timeout", "inter_digit_timeout", "language")


@dataclass(frozen=True)
class ParsedFlow:
    """A flow file's parse: the flow (if the top level was readable) with every node that could be
    built, the file's problems, every node id written, and the ids of nodes with problems."""

    flow: Flow | None
    problems: list[Problem]
    node_ids: frozenset[str]
    broken: frozenset[str] = frozenset()

    @property
    def complete(self) -> bool:
        """Every node written was built (perhaps with problems): its exits are all known."""
        return self.flow is not None and set(self.flow.nodes) == set(self.node_ids)


def _defaults(top: Fields) -> FlowDefaults:
    found = top.raw("defaults")
    if found is None:
        return FlowDefaults()
    if not isinstance(found.value, dict):
        top.error(found.line, "'defaults' must be a mapping")
        return FlowDefaults()
    f = Fields(found, top.file, "", top.problems)
    defaults = FlowDefaults(
        retries=f.number("retries", 2, int, 0, 20),
        timeout=f.number("timeout", 5.0, float, 0.5, 600),
        inter_digit_timeout=f.number("inter_digit_timeout", 3.0, float, 0.5, 600),
        language=_language(f),
    )
    f.finish("'defaults'", DEFAULTS_FIELDS)
    return defaults


def _language(f: Fields) -> str | None:
    language = f.text("language")
    if language is not None and not LANGUAGE.match(language):
        shown = language[:40]
        f.error(f.line("language"), f"'language' must be a language code such as en or zh, got {shown!r}")
        return None
    return language


def _nodes(top: Fields, defaults: FlowDefaults, broken: set[str]) -> Iterator[NodeBase]:
    nodes = top.mapping("nodes", required=True, what="node id")
    key_lines = top.values["nodes"].key_lines if nodes else {}
    for node_id, item in nodes.items():
        line = key_lines.get(node_id, item.line)
        if not IDENT.match(node_id):
            top.problems.append(Problem(top.file, line, node_id, "node ids are names (letters, digits, _)"))
            broken.add(node_id)
            continue
        if not isinstance(item.value, dict):
            top.problems.append(Problem(top.file, line, node_id, "a node is a mapping with a 'type'"))
            broken.add(node_id)
            continue
        f = Fields(item, top.file, node_id, top.problems)
        f.anchor_line = line
        node_type = item.value.get("type")
        type_name = node_type.value if node_type is not None else None
        spec = NODE_SPECS.get(type_name) if isinstance(type_name, str) else None
        if spec is None:
            known = ", ".join(sorted(NODE_TYPES))
            hint = did_you_mean(type_name, NODE_TYPES) if isinstance(type_name, str) else ""
            what = "missing node type" if type_name is None else f"unknown node type {str(type_name)[:40]!r}"
            f.error(line, f"{what}{hint} (known: {known})")
            broken.add(node_id)
            continue
        node = spec.read(f, Where(node_id, Source(top.file, line)), defaults)
        f.finish(f"a {spec.name} node", spec.fields)
        if f.failed:
            broken.add(node_id)
        yield node


def _read(path: Path, file: str) -> tuple[Located | None, list[Problem]]:
    try:
        text = read_flow_text(path)
    except FileRefused as exc:
        return None, [Problem(file, exc.line, "", str(exc))]
    root, yaml_problems = parse_yaml(text)
    return root, [Problem(file, p.line, "", p.message) for p in yaml_problems]


def parse_flow(path: Path, display: str | None = None) -> ParsedFlow:
    """Read and check one flow file's schema; never raises for the file's content."""
    file = display or str(path)
    root, problems = _read(path, file)
    if root is None:
        return ParsedFlow(None, problems, frozenset())
    if not isinstance(root.value, dict):
        problems.append(Problem(file, root.line, "", "a flow file is a mapping with 'nodes'"))
        return ParsedFlow(None, problems, frozenset())
    top = Fields(root, file, "", problems)
    defaults = _defaults(top)
    name = top.name("flow", required=False, default=path.stem) or path.stem
    description = top.text("description", "") or ""
    broken: set[str] = set()
    nodes = {node.id: node for node in _nodes(top, defaults, broken)}
    start = top.name("start", required=False)
    top.finish("the flow file", TOP_FIELDS)
    raw_nodes = top.values.get("nodes")
    ordered_ids = list(raw_nodes.value) if raw_nodes is not None and isinstance(raw_nodes.value, dict) else []
    node_ids = frozenset(ordered_ids)
    if start is None:
        start = ordered_ids[0] if ordered_ids else ""
    if not node_ids:
        if raw_nodes is not None:
            problems.append(Problem(file, root.line, "", "the flow has no nodes"))
    elif start not in node_ids:
        hint = did_you_mean(start, node_ids)
        problems.append(Problem(file, top.line("start"), "", f"start node {start!r} does not exist{hint}"))
    flow = Flow(name=name, path=path, start=start, defaults=defaults, nodes=nodes, description=description)
    return ParsedFlow(flow, problems, node_ids, frozenset(broken))


def dangling_exits(parsed: ParsedFlow) -> Iterator[Problem]:
    """Exits naming a node that does not exist (a bad or missing name was reported when read)."""
    if parsed.flow is None:
        return
    for node in parsed.flow.nodes.values():
        for exit_name, target in node.targets():
            if target and target not in parsed.node_ids:
                hint = did_you_mean(target, parsed.node_ids)
                yield Problem(
                    node.source.file,
                    node.source.line,
                    node.id,
                    f"exit '{exit_name}' goes to node {target!r}, which does not exist{hint}",
                )


def load_flow(path: Path) -> Flow:
    """Load a flow for running: schema problems and bad targets raise one ``FlowError``."""
    parsed = parse_flow(path)
    problems = [*parsed.problems, *dangling_exits(parsed)]
    if problems or parsed.flow is None:
        raise FlowError(problems)
    return parsed.flow
