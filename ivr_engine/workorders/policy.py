"""``workorders.yaml``: the order types, the departments, the hours each step may take by urgency, the
repeat window and when the return visit is due. Errors name the file and the line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ivr_engine.workorders.errors import PolicyError
from ivr_engine.workorders.model import Urgency

__all__ = ["DEFAULT_POLICY", "DEFAULT_VISIT_QUEUE", "WorkOrderPolicy", "load_policy", "parse_policy"]

_KEYS = frozenset({"types", "departments", "step_hours", "repeat_window_days", "return_visit_after_hours",
                   "return_visit_queue"})
DEFAULT_VISIT_QUEUE = "general"
"""Where a return visit waits for an agent when neither the policy nor the order's call names a queue."""
_MAX_HOURS = 24 * 366


def _default_hours() -> dict[Urgency, float]:
    return {Urgency.URGENT: 2.0, Urgency.HIGH: 8.0, Urgency.NORMAL: 24.0, Urgency.LOW: 72.0}


@dataclass(frozen=True)
class WorkOrderPolicy:
    types: tuple[str, ...] = ("complaint", "consultation", "after-sales", "suggestion")
    departments: tuple[str, ...] = ("customer-service", "billing", "logistics", "technical")
    step_hours: Mapping[Urgency, float] = field(default_factory=_default_hours)
    """Hours from creation to dispatch, and from each dispatch to closing, by urgency."""
    repeat_window_days: float = 7.0
    """A new order of the same type for the same customer this soon after another is a repeat."""
    return_visit_after_hours: float = 24.0
    """The return visit (call back: satisfied or not?) is due this long after closing."""
    return_visit_queue: str | None = None
    """The ACD queue every return visit waits in for an agent; None: the queue the order's call waited
    in, else ``DEFAULT_VISIT_QUEUE``."""

    def check_type(self, kind: str) -> str:
        if kind not in self.types:
            raise PolicyError(f"unknown work order type {kind!r}; types: {', '.join(self.types)}")
        return kind

    def check_department(self, department: str) -> str:
        if department not in self.departments:
            raise PolicyError(
                f"unknown department {department!r}; departments: {', '.join(self.departments)}"
            )
        return department


DEFAULT_POLICY = WorkOrderPolicy()


def load_policy(path: Path) -> WorkOrderPolicy:
    """The policy in ``path``; the defaults when the file does not exist."""
    if not path.exists():
        return DEFAULT_POLICY
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read: {exc}") from exc
    return parse_policy(text, str(path))


def parse_policy(text: str, source: str) -> WorkOrderPolicy:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from exc
    if root is None:
        return DEFAULT_POLICY
    where = _Where(source)
    top = where.mapping(root, "the file")
    unknown = sorted(set(top) - _KEYS)
    if unknown:
        raise PolicyError(f"{where.at(top[unknown[0]][0])}: unknown key {unknown[0]!r}; "
                          f"known: {', '.join(sorted(_KEYS))}")
    values: dict[str, Any] = {}
    if "types" in top:
        values["types"] = where.names(top["types"][1], "types")
    if "departments" in top:
        values["departments"] = where.names(top["departments"][1], "departments")
    if "step_hours" in top:
        hours = dict(_default_hours())
        for key, (key_node, value_node) in where.mapping(top["step_hours"][1], "step_hours").items():
            try:
                urgency = Urgency(key)
            except ValueError:
                raise PolicyError(f"{where.at(key_node)}: step_hours: unknown urgency {key!r}; "
                                  f"urgencies: {', '.join(u.value for u in Urgency)}") from None
            hours[urgency] = where.hours(value_node, f"step_hours.{key}")
        values["step_hours"] = hours
    for key in ("repeat_window_days", "return_visit_after_hours"):
        if key in top:
            values[key] = where.hours(top[key][1], key)
    if "return_visit_queue" in top:
        node = top["return_visit_queue"][1]
        queue = str(node.value).strip() if isinstance(node, ScalarNode) else ""
        if not queue or len(queue) > 100 or not queue.isprintable():
            raise PolicyError(f"{where.at(node)}: return_visit_queue must be a queue name of acd.yaml")
        values["return_visit_queue"] = queue
    return WorkOrderPolicy(**values)


class _Where:
    def __init__(self, source: str) -> None:
        self.source = source

    def at(self, node: Node) -> str:
        return f"{self.source}:{node.start_mark.line + 1}"

    def mapping(self, node: Node, what: str) -> dict[str, tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            raise PolicyError(f"{self.at(node)}: {what} must be a mapping")
        found: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise PolicyError(f"{self.at(key_node)}: keys must be names")
            found[str(key_node.value)] = (key_node, value_node)
        return found

    def names(self, node: Node, what: str) -> tuple[str, ...]:
        if not isinstance(node, SequenceNode) or not node.value:
            raise PolicyError(f"{self.at(node)}: {what} must be a non-empty list of names")
        names: list[str] = []
        for item in node.value:
            value = str(item.value).strip() if isinstance(item, ScalarNode) else ""
            if not value or len(value) > 64 or not value.isprintable():
                raise PolicyError(f"{self.at(item)}: {what}: each entry must be a name of 1-64 characters")
            if value in names:
                raise PolicyError(f"{self.at(item)}: {what}: {value!r} is listed twice")
            names.append(value)
        return tuple(names)

    def hours(self, node: Node, what: str) -> float:
        text = str(node.value) if isinstance(node, ScalarNode) else ""
        try:
            value = float(text) if len(text) <= 20 else float("nan")
        except ValueError:
            value = float("nan")
        if not 0 < value <= _MAX_HOURS:
            raise PolicyError(f"{self.at(node)}: {what} must be a number above 0 (at most {_MAX_HOURS})")
        return value
