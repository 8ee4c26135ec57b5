"""``ivr validate``: every check a flow designer needs before a flow reaches a phone, all in one pass.

Schema problems come from the loader (every node of every file, even when other nodes are broken);
then, for every flow that could be read: exits to unknown nodes, nodes unreachable from the start,
loops that can spin without caller input (wherever they are), sub-flow calls that come back to the
calling flow, each node type's own checks (unknown sub-flows, lookups and their parameters, queues
and skills missing from acd.yaml, menus without '0'), prompt ids missing from the catalogue (and, as a
warning, prompts whose audio is not built), and (warning) template variables no flow ever sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ivr_engine.flow.checks import AcdNames, LookupSignature
from ivr_engine.flow.errors import Problem, Severity
from ivr_engine.flow.graph import call_chain, call_graph, cycles, languages, spin_loops, waiting_flows
from ivr_engine.flow.hints import did_you_mean
from ivr_engine.flow.library import flow_files
from ivr_engine.flow.loader import ParsedFlow, dangling_exits, parse_flow
from ivr_engine.flow.model import Flow, NodeBase
from ivr_engine.flow.nodes.call import MAX_CALL_DEPTH, CallNode
from ivr_engine.flow.registry import spec_of

__all__ = [
    "BUILTIN_VARIABLES",
    "KNOWN_LOOKUPS",
    "AcdNames",
    "CatalogueView",
    "LookupSignature",
    "ValidationReport",
    "validate_paths",
]

BUILTIN_VARIABLES = frozenset({"caller_id", "dialled", "call_id", "parent_flow", "agent_id", "language"})


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

    def ids(self, lang: str) -> list[str]: ...

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


class _Checker:
    """Collects problems; is the ``NodeChecks`` each node type's ``check`` reports through."""

    def __init__(
        self, flows: Mapping[str, Flow], catalogue: CatalogueView | None, acd: AcdNames | None, language: str
    ) -> None:
        self.flows = flows
        self.languages = languages(flows, language)
        self.catalogue = catalogue
        self._acd = acd
        self.problems: list[Problem] = []
        self.unbuilt: set[str] = set()
        self._names = frozenset(flows)

    @property
    def flow_names(self) -> frozenset[str]:
        return self._names

    @property
    def lookups(self) -> Mapping[str, LookupSignature]:
        return KNOWN_LOOKUPS

    @property
    def acd(self) -> AcdNames | None:
        return self._acd

    def error(self, node: NodeBase, message: str) -> None:
        self.problems.append(Problem(node.source.file, node.source.line, node.id, message))

    def warn(self, node: NodeBase, message: str) -> None:
        self.problems.append(Problem(node.source.file, node.source.line, node.id, message, Severity.WARNING))

    def check(self, parsed: ParsedFlow, waiting: set[str]) -> None:
        self.problems.extend(parsed.problems)
        self.problems.extend(dangling_exits(parsed))
        flow = parsed.flow
        if flow is None:
            return
        for node in flow.nodes.values():
            spec_of(node).check(node, self)
            self._prompts(flow, node)
        if parsed.complete and flow.start in flow.nodes:
            self._reachable(flow)
        for loop in spin_loops(flow, waiting):
            first = flow.nodes[loop[0]]
            self.error(first, f"loop without caller input can spin forever: {' -> '.join(loop)}")

    def _prompts(self, flow: Flow, node: NodeBase) -> None:
        if self.catalogue is None:
            return
        for lang in sorted(self.languages.get(flow.name, {flow.defaults.language or "en"})):
            for speech in node.speeches():
                for prompt_id in speech.prompts:
                    if not self.catalogue.has(prompt_id, lang):
                        hint = did_you_mean(prompt_id, self.catalogue.ids(lang))
                        missing = f"prompt {prompt_id!r} is not in the {lang!r} prompt catalogue"
                        self.error(node, missing + hint)
                    elif not self.catalogue.wav_path(prompt_id, lang).is_file():
                        self.unbuilt.add(f"{lang}/{prompt_id}")

    def _reachable(self, flow: Flow) -> None:
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
                self.error(node, f"unreachable: no path leads here from the start node {flow.start!r}")

    def call_cycles(self, checked: set[str]) -> None:
        """Sub-flow calls that come back to the calling flow (each reported at its call node)."""
        graph = call_graph(self.flows)
        for component in cycles(sorted(graph), lambda name: graph[name]):
            for name in sorted(component & checked):
                for node in self.flows[name].nodes.values():
                    if isinstance(node, CallNode) and node.flow in component:
                        chain = [name, *call_chain(graph, node.flow, name)]
                        self.error(
                            node,
                            f"sub-flow calls come back to this flow ({' -> '.join(chain)}): each call nests"
                            f" one level deeper until the call fails at {MAX_CALL_DEPTH} levels; use return"
                            " or goto",
                        )

    def variables(self, checked: Sequence[ParsedFlow]) -> None:
        values = {name: signature.values for name, signature in KNOWN_LOOKUPS.items()}
        assigned = set(BUILTIN_VARIABLES)
        for flow in self.flows.values():
            for node in flow.nodes.values():
                assigned |= node.assigned(values)
        for parsed in checked:
            if parsed.flow is None:
                continue
            for node in parsed.flow.nodes.values():
                for name in sorted(node.variables_used() - assigned):
                    self.warn(node, f"variable {name!r} is never set by any flow")


def validate_paths(
    paths: Iterable[Path],
    *,
    catalogue: CatalogueView | None,
    catalogue_file: str = "sounds/prompts.yaml",
    library: Iterable[Path] = (),
    acd: AcdNames | None = None,
    language: str = "en",
) -> ValidationReport:
    """Check the flow files named (folders: every ``*.yaml`` in them) together, all problems at once.

    Sub-flows resolve among the files checked, the other flows in their folders, then the flows of
    the ``library`` folders (the shipped flows). With no catalogue, prompt checks are skipped; with no
    ``acd``, queue and skill names are not checked. Prompts are checked in every language a flow can
    speak: its own, else ``language`` (the service's) and its callers' (``graph.languages``).
    """
    files = flow_files(paths)
    parsed = {str(file): parse_flow(file) for file in files}
    folders = list(dict.fromkeys(file.parent for file in files))
    extra: dict[str, ParsedFlow] = {}
    for folder in [*library, *folders]:
        for sibling in flow_files([folder]) if folder.is_dir() else []:
            key = str(sibling)
            if key not in parsed and key not in extra:
                extra[key] = parse_flow(sibling)
    flows: dict[str, Flow] = {}
    for result in [*extra.values(), *parsed.values()]:  # checked files win over same-named library flows
        if result.flow is not None:
            flows[result.flow.name] = result.flow
    checker = _Checker(flows, catalogue, acd, language)
    waiting = waiting_flows(flows)
    names: dict[str, str] = {}
    for file, result in parsed.items():
        checker.check(result, waiting)
        if result.flow is not None:
            name = result.flow.name
            if name in names:
                checker.problems.append(
                    Problem(file, 0, "", f"flow name {name!r} is also used by {names[name]}")
                )
            names[name] = file
    checker.call_cycles(set(names))
    checker.variables(list(parsed.values()))
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
