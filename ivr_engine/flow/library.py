"""A folder of flows loaded together: sub-flow calls and service numbers resolve here.

``FlowLibrary.for_flow`` loads one flow for a tool (``ivr simulate``, ``ivr sipp generate``) with only
the sub-flows it needs, looked up in its own folder first and then in the shipped flows: a broken
sibling that the flow never calls does not stop it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from ivr_engine.flow.errors import FlowError, Problem
from ivr_engine.flow.loader import load_flow, parse_flow
from ivr_engine.flow.model import Flow
from ivr_engine.flow.nodes.call import CallNode
from ivr_engine.flow.nodes.hours import HoursNode

__all__ = ["FlowLibrary", "flow_files"]


def flow_files(paths: Iterable[Path]) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files named or inside the folders named, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        else:
            files.append(path)
    return files


class FlowLibrary:
    """Flows by name (``flow:`` or the file stem)."""

    def __init__(self, flows: Iterable[Flow]) -> None:
        self._flows: dict[str, Flow] = {flow.name: flow for flow in flows}

    @classmethod
    def from_paths(cls, paths: Iterable[Path]) -> FlowLibrary:
        """Load every flow file; one ``FlowError`` lists the problems of all of them."""
        flows: list[Flow] = []
        problems: list[Problem] = []
        for file in flow_files(paths):
            try:
                flows.append(load_flow(file))
            except FlowError as exc:
                problems.extend(exc.problems)
        if problems:
            raise FlowError(problems)
        return cls(flows)

    @classmethod
    def lenient(cls, paths: Iterable[Path]) -> FlowLibrary:
        """Every flow file that loads; broken ones are left out (for defaults such as time zones)."""
        flows: list[Flow] = []
        for file in flow_files(paths):
            try:
                flows.append(load_flow(file))
            except FlowError:
                continue
        return cls(flows)

    @classmethod
    def for_flow(cls, path: Path, library: Iterable[Path] = ()) -> tuple[FlowLibrary, Flow]:
        """``path``'s flow and the sub-flows it calls (transitively), each found by name in
        ``path``'s folder, then in the ``library`` folders. Raises one ``FlowError`` listing the
        problems of the flow and of every sub-flow it needs (an unknown sub-flow is one of them);
        other files in those folders are not loaded."""
        top = load_flow(path)  # FlowError: the flow itself is broken
        where: dict[str, Path] = {}
        for folder in [path.parent, *library]:
            for file in flow_files([folder]) if folder.is_dir() else []:
                parsed = parse_flow(file)
                name = parsed.flow.name if parsed.flow is not None else file.stem
                where.setdefault(name, file)
        flows = {top.name: top}
        problems: list[Problem] = []
        todo = [top]
        while todo:
            flow = todo.pop()
            for node in flow.nodes.values():
                if not isinstance(node, CallNode) or node.flow in flows:
                    continue
                found = where.get(node.flow)
                if found is None:
                    message = f"sub-flow {node.flow!r} is in no folder searched"
                    problems.append(Problem(str(flow.path), node.source.line, node.id, message))
                    continue
                try:
                    sub = load_flow(found)
                except FlowError as exc:
                    problems.extend(exc.problems)
                    continue
                flows[node.flow] = sub
                todo.append(sub)
        if problems:
            raise FlowError(problems)
        return cls(flows.values()), top

    def get(self, name: str) -> Flow | None:
        return self._flows.get(name)

    def names(self) -> list[str]:
        return sorted(self._flows)

    def for_number(self, dialled: str, numbers: Mapping[str, str]) -> Flow | None:
        """The flow a service number (``Settings.service_numbers``) runs, if any."""
        name = numbers.get(dialled)
        return self._flows.get(name) if name is not None else None

    def hours_zones(self) -> set[str]:
        """The time zones of every ``hours`` node (the centre's zone defaults to these)."""
        return {
            node.timezone
            for flow in self._flows.values()
            for node in flow.nodes.values()
            if isinstance(node, HoursNode)
        }
