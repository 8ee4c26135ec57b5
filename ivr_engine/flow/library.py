"""A folder of flows loaded together: sub-flow calls and service numbers resolve here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from ivr_engine.flow.errors import FlowError, Problem
from ivr_engine.flow.loader import load_flow
from ivr_engine.flow.model import Flow, HoursNode

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
