"""``ivr validate``: every check a flow designer needs before a flow reaches a phone.

Schema problems come from the loader; on top of them: exits to unknown nodes, unknown sub-flows,
nodes unreachable from the start, loops that can spin without caller input, sub-flow calls that come
back to the calling flow, prompt ids missing from the catalogue (and, as a warning, prompts whose audio
is not built), unknown lookups and wrong lookup parameters, and (warning) template variables that no
flow ever sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ivr_engine.flow.errors import Problem, Severity
from ivr_engine.flow.interpreter import MAX_CALL_DEPTH
from ivr_engine.flow.library import flow_files
from ivr_engine.flow.loader import ParsedFlow, parse_flow
from ivr_engine.flow.model import (
    BranchNode,
    CallNode,
    Flow,
    GatherNode,
    LookupNode,
    MenuNode,
    Node,
    RecordNode,
    SayNode,
    SetNode,
    Speech,
    SurveyNode,
    TransferNode,
)
from ivr_engine.flow.templates import template_variables

__all__ = [
    "BUILTIN_VARIABLES",
    "KNOWN_LOOKUPS",
    "CatalogueView",
    "LookupSignature",
    "ValidationReport",
    "validate_paths",
]

BUILTIN_VARIABLES = frozenset({"caller_id", "dialled", "call_id", "parent_flow", "agent_id"})


@dataclass(frozen=True)
class LookupSignature:
    params: frozenset[str]
    values: frozenset[str]


def _sig(params: Iterable[str], values: Iterable[str]) -> LookupSignature:
    return LookupSignature(frozenset(params), frozenset(values))


# The named queries of ivr_engine.storage.lookups.LOOKUPS; tests/flow/test_validator.py keeps the two
# in sync (the flow package does not import the storage layer).
KNOWN_LOOKUPS: Mapping[str, LookupSignature] = {
    "customer_by_phone": _sig(["phone"], ["customer_id", "customer_name", "vip"]),
    "account_auth": _sig(["account", "pin"], ["account", "balance"]),
    "order_status": _sig(["order"], ["order_status", "expected_delivery"]),
    "member_points": _sig(["card"], ["points", "member_name"]),
}


class CatalogueView(Protocol):
    """What the validator needs from ``ivr_engine.prompts.catalogue.PromptCatalogue``."""

    def has(self, prompt_id: str, lang: str) -> bool: ...

    def wav_path(self, prompt_id: str, lang: str) -> Path: ...


@dataclass(frozen=True)
class ValidationReport:
    files: tuple[str, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        return not self.errors


def _speeches(node: Node) -> Iterator[Speech]:
    for name in ("speech", "invalid_speech", "no_input_speech", "after"):
        speech = getattr(node, name, None)
        if isinstance(speech, Speech):
            yield speech
    if isinstance(node, SurveyNode):
        for question in node.questions:
            yield question.speech


def _templates(node: Node) -> Iterator[str]:
    for speech in _speeches(node):
        if speech.text is not None:
            yield speech.text
    if isinstance(node, LookupNode):
        yield from node.params.values()
    elif isinstance(node, SetNode):
        yield from node.values.values()
    elif isinstance(node, SayNode):
        yield node.value
    elif isinstance(node, TransferNode):
        yield node.priority
    elif isinstance(node, RecordNode) and node.mailbox is not None:
        yield node.mailbox


def _assigned(node: Node) -> set[str]:
    if isinstance(node, GatherNode):
        return {node.into}
    if isinstance(node, SetNode):
        return set(node.values)
    if isinstance(node, LookupNode):
        signature = KNOWN_LOOKUPS.get(node.query)
        fields = set(node.into) if node.into else set(signature.values if signature else ())
        return {node.into.get(name, name) for name in fields}
    if isinstance(node, SurveyNode):
        return {f"{node.survey}_{q.id}" for q in node.questions}
    return set()


class _Checker:
    def __init__(self, parsed: Mapping[str, ParsedFlow], catalogue: CatalogueView | None) -> None:
        self.parsed = parsed
        self.flows: dict[str, Flow] = {p.flow.name: p.flow for p in parsed.values() if p.flow is not None}
        self.catalogue = catalogue
        self.problems: list[Problem] = []
        self.unbuilt: set[str] = set()

    def error(self, file: str, node: Node | None, message: str, line: int | None = None) -> None:
        self._add(file, node, message, line, Severity.ERROR)

    def warn(self, file: str, node: Node | None, message: str, line: int | None = None) -> None:
        self._add(file, node, message, line, Severity.WARNING)

    def _add(self, file: str, node: Node | None, message: str, line: int | None, severity: Severity) -> None:
        where = line if line is not None else (node.source.line if node is not None else 0)
        self.problems.append(Problem(file, where, node.id if node else "", message, severity))

    def check(self, file: str, parsed: ParsedFlow) -> None:
        self.problems.extend(parsed.problems)
        flow = parsed.flow
        if flow is None:
            return
        for node in flow.nodes.values():
            self._targets(file, node, parsed.node_ids)
            self._prompts(file, flow, node)
            if isinstance(node, LookupNode):
                self._lookup(file, node)
            if isinstance(node, CallNode) and node.flow not in self.flows:
                self.error(
                    file,
                    node,
                    f"sub-flow {node.flow!r} does not exist (known: {', '.join(sorted(self.flows))})",
                )
            elif isinstance(node, CallNode) and (cycle := self._call_cycle(flow.name, node.flow)):
                self.error(
                    file,
                    node,
                    f"sub-flow calls come back to this flow ({' -> '.join(cycle)}): each call nests one "
                    f"level deeper until the call fails at {MAX_CALL_DEPTH} levels; use return or goto",
                )
        self._menus(file, flow)
        if set(flow.nodes) == set(parsed.node_ids) and flow.start in flow.nodes:
            self._reachable(file, flow)
            self._loops(file, flow)

    def _targets(self, file: str, node: Node, node_ids: frozenset[str]) -> None:
        for exit_name, target in node.targets():
            if target not in node_ids:
                self.error(file, node, f"exit '{exit_name}' goes to node {target!r}, which does not exist")

    def _prompts(self, file: str, flow: Flow, node: Node) -> None:
        if self.catalogue is None:
            return
        lang = flow.defaults.language
        for speech in _speeches(node):
            for prompt_id in speech.prompts:
                if not self.catalogue.has(prompt_id, lang):
                    self.error(file, node, f"prompt {prompt_id!r} is not in the {lang!r} prompt catalogue")
                elif not self.catalogue.wav_path(prompt_id, lang).is_file():
                    self.unbuilt.add(f"{lang}/{prompt_id}")

    def _lookup(self, file: str, node: LookupNode) -> None:
        signature = KNOWN_LOOKUPS.get(node.query)
        if signature is None:
            self.error(
                file, node, f"unknown lookup {node.query!r} (known: {', '.join(sorted(KNOWN_LOOKUPS))})"
            )
            return
        if set(node.params) != signature.params:
            self.error(
                file,
                node,
                f"lookup {node.query!r} takes parameters ({', '.join(sorted(signature.params))}),"
                f" got ({', '.join(sorted(node.params))})",
            )
        unknown = set(node.into) - signature.values
        if unknown:
            self.error(
                file,
                node,
                f"lookup {node.query!r} gives no {', '.join(sorted(unknown))}"
                f" (it gives {', '.join(sorted(signature.values))})",
            )

    def _call_cycle(self, home: str, callee: str) -> list[str]:
        """The chain of sub-flow calls from ``home`` through ``callee`` back to ``home``; [] if none."""
        todo: list[list[str]] = [[home, callee]]
        seen: set[str] = set()
        while todo:
            chain = todo.pop()
            if chain[-1] == home:
                return chain
            if chain[-1] in seen or chain[-1] not in self.flows:
                continue
            seen.add(chain[-1])
            for node in self.flows[chain[-1]].nodes.values():
                if isinstance(node, CallNode):
                    todo.append([*chain, node.flow])
        return []

    def _menus(self, file: str, flow: Flow) -> None:
        for node in flow.nodes.values():
            if isinstance(node, MenuNode) and node.choices and "0" not in {k.value for k in node.choices}:
                self.warn(file, node, "menu has no '0' choice: callers expect 0 to reach an agent")

    def _reachable(self, file: str, flow: Flow) -> None:
        seen = {flow.start}
        todo = [flow.start]
        while todo:
            node = flow.nodes[todo.pop()]
            for _, target in node.targets():
                if target in flow.nodes and target not in seen:
                    seen.add(target)
                    todo.append(target)
        for node_id, node in flow.nodes.items():
            if node_id not in seen:
                self.error(file, node, f"unreachable: no path leads here from the start node {flow.start!r}")

    def _waits_for_caller(self, node: Node, visiting: frozenset[str] = frozenset()) -> bool:
        if node.takes_input:
            return True
        if isinstance(node, CallNode):
            sub = self.flows.get(node.flow)
            if sub is None or sub.name in visiting:
                return False
            return any(self._waits_for_caller(n, visiting | {sub.name}) for n in sub.nodes.values())
        return False

    def _loops(self, file: str, flow: Flow) -> None:
        for component in _cycles(flow):
            nodes = [flow.nodes[n] for n in component]
            if not any(self._waits_for_caller(n) for n in nodes):
                first = min(nodes, key=lambda n: n.source.line)
                path = " -> ".join(sorted(component, key=lambda n: flow.nodes[n].source.line))
                self.error(file, first, f"loop without caller input can spin forever: {path}")

    def variables(self) -> None:
        assigned = set(BUILTIN_VARIABLES)
        for flow in self.flows.values():
            for node in flow.nodes.values():
                assigned |= _assigned(node)
        for file, parsed in self.parsed.items():
            if parsed.flow is None:
                continue
            for node in parsed.flow.nodes.values():
                used: set[str] = set()
                for template in _templates(node):
                    used |= template_variables(template)
                if isinstance(node, BranchNode):
                    for condition in node.conditions:
                        used |= condition.expr.variables()
                for name in sorted(used - assigned):
                    self.warn(file, node, f"variable {name!r} is never set by any flow")


def _cycles(flow: Flow) -> list[set[str]]:
    """Strongly connected components that contain a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0

    def edges(node_id: str) -> list[str]:
        return [t for _, t in flow.nodes[node_id].targets() if t in flow.nodes]

    for root in flow.nodes:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(edges(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node_id, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges(child))))
                elif child in on_stack:
                    low[node_id] = min(low[node_id], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node_id])
            if low[node_id] == index[node_id]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node_id:
                        break
                if len(component) > 1 or node_id in edges(node_id):
                    found.append(component)
    return found


def validate_paths(
    paths: Iterable[Path], *, catalogue: CatalogueView | None, catalogue_file: str = "sounds/prompts.yaml"
) -> ValidationReport:
    """Check the flow files named (folders: every ``*.yaml`` in them) together.

    Sub-flows resolve among the files checked and the other flows in their folders. With no
    catalogue, prompt checks are skipped.
    """
    files = flow_files(paths)
    parsed = {str(file): parse_flow(file) for file in files}
    extra = {
        str(sibling): parse_flow(sibling)
        for folder in {file.parent for file in files}
        for sibling in flow_files([folder])
        if str(sibling) not in parsed
    }
    checker = _Checker(parsed, catalogue)
    checker.flows.update({p.flow.name: p.flow for p in extra.values() if p.flow is not None and p.flow.name})
    checker.flows.update({p.flow.name: p.flow for p in parsed.values() if p.flow is not None})
    names: dict[str, str] = {}
    for file, result in parsed.items():
        checker.check(file, result)
        if result.flow is not None:
            if result.flow.name in names:
                checker.error(
                    file, None, f"flow name {result.flow.name!r} is also used by {names[result.flow.name]}"
                )
            names[result.flow.name] = file
    checker.variables()
    if checker.unbuilt:
        listed = ", ".join(sorted(checker.unbuilt)[:8]) + (" ..." if len(checker.unbuilt) > 8 else "")
        checker.problems.append(
            Problem(
                catalogue_file,
                0,
                "",
                f"{len(checker.unbuilt)} prompts have no audio yet (run `ivr prompts build`): {listed}",
                Severity.WARNING,
            )
        )
    return ValidationReport(tuple(parsed), tuple(sorted(set(checker.problems))))
