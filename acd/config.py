"""Loading ``acd.yaml`` (agents and queues) with ``file:line`` errors. See the file's own comments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from acd.errors import AcdConfigError, UnknownStrategy
from acd.model import Agent, EscalationStep, Queue, Strategy
from acd.strategies import STRATEGIES, strategy_for

__all__ = ["AcdConfig", "load_acd_config", "parse_acd_config"]

_AGENT_KEYS = frozenset({"id", "name", "endpoint", "skills"})
_QUEUE_KEYS = frozenset({
    "name", "skills", "strategy", "wrap_up_seconds", "ring_timeout", "max_wait",
    "announce_interval", "escalation", "default_handle_seconds", "record",
})
_OVERFLOW_NOT_READ = (
    "'overflow' is not read: a caller who waits max_wait leaves the flow's transfer node by its "
    "'overflow' exit (else 'next'), so the flow says where they go; remove the key from {what}"
)
"""Queues once named an overflow flow here, which nothing read; refused with where that lives now."""
_STEP_KEYS = frozenset({"after", "skill", "min_level", "drop"})


@dataclass(frozen=True)
class AcdConfig:
    agents: tuple[Agent, ...]
    queues: tuple[Queue, ...]


class _Reader:
    """Walks the YAML node tree so every error can name the line it is about."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: Node | None, message: str) -> AcdConfigError:
        line = node.start_mark.line + 1 if node is not None else None
        return AcdConfigError(self.source, line, message)

    def mapping(self, node: Node, what: str, allowed: frozenset[str] | None = None) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        out: dict[str, Node] = {}
        for key_node, value in node.value:
            key = self.text(key_node, f"a key in {what}")
            if allowed is not None and key not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(key_node, f"unknown key {key!r} in {what} (allowed: {known})")
            if key in out:
                raise self.fail(key_node, f"duplicate key {key!r} in {what}")
            out[key] = value
        return out

    def sequence(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def text(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode) or node.value == "":
            raise self.fail(node, f"{what} must be a non-empty string")
        return str(node.value)

    def number(self, node: Node, what: str, *, positive: bool = False) -> float:
        value = self.scalar(node, what)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(node, f"{what} must be a number of seconds, not {node.value!r}")
        if value < 0 or (positive and value == 0):
            raise self.fail(node, f"{what} must be {'above' if positive else 'at least'} 0, not {value}")
        return float(value)

    def level(self, node: Node, what: str) -> int:
        value = self.scalar(node, what)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
            raise self.fail(node, f"{what} must be a whole number from 1 to 10, not {node.value!r}")
        return value

    def skills(self, node: Node, what: str) -> dict[str, int]:
        return {name: self.level(value, f"level of {name!r} in {what}")
                for name, value in self.mapping(node, what).items()}

    def scalar(self, node: Node, what: str) -> object:
        if not isinstance(node, ScalarNode):
            raise self.fail(node, f"{what} must be a single value")
        return yaml.safe_load(node.value) if node.style is None else node.value


def _agent(r: _Reader, node: Node, index: int) -> Agent:
    what = f"agent #{index + 1}"
    fields = r.mapping(node, what, _AGENT_KEYS)
    for key in ("id", "endpoint", "skills"):
        if key not in fields:
            raise r.fail(node, f"{what} needs {key!r}")
    agent_id = r.text(fields["id"], f"id of {what}")
    what = f"agent {agent_id}"
    return Agent(
        id=agent_id,
        name=r.text(fields["name"], f"name of {what}") if "name" in fields else f"Agent {agent_id}",
        endpoint=r.text(fields["endpoint"], f"endpoint of {what}"),
        skills=r.skills(fields["skills"], f"skills of {what}"),
    )


def _step(r: _Reader, node: Node, queue: str, skills: dict[str, int]) -> EscalationStep:
    what = f"an escalation step of queue {queue}"
    fields = r.mapping(node, what, _STEP_KEYS)
    if "after" not in fields or "skill" not in fields:
        raise r.fail(node, f"{what} needs 'after' and 'skill'")
    skill = r.text(fields["skill"], f"skill of {what}")
    if skill not in skills:
        raise r.fail(fields["skill"], f"{what} names skill {skill!r}, which the queue does not require")
    drop = "drop" in fields and r.scalar(fields["drop"], "drop") is True
    if drop == ("min_level" in fields):
        raise r.fail(node, f"{what} needs exactly one of 'min_level' or 'drop: true'")
    min_level = None if drop else r.level(fields["min_level"], f"min_level of {what}")
    return EscalationStep(r.number(fields["after"], f"after of {what}"), skill, min_level)


def _queue(r: _Reader, node: Node, index: int) -> Queue:
    fields = r.mapping(node, f"queue #{index + 1}", _QUEUE_KEYS | {"overflow"})
    if "name" not in fields:
        raise r.fail(node, f"queue #{index + 1} needs 'name'")
    name = r.text(fields["name"], f"name of queue #{index + 1}")
    what = f"queue {name}"
    if "overflow" in fields:
        raise r.fail(fields["overflow"], _OVERFLOW_NOT_READ.format(what=what))
    skills = r.skills(fields["skills"], f"skills of {what}") if "skills" in fields else {}
    strategy = Strategy.LONGEST_IDLE
    if "strategy" in fields:
        raw = r.text(fields["strategy"], f"strategy of {what}")
        try:
            strategy = strategy_for(raw, name).name
        except UnknownStrategy:
            raise UnknownStrategy(raw, list(STRATEGIES), name, source=r.source,
                                  line=fields["strategy"].start_mark.line + 1) from None
    defaults = Queue(name, skills)

    def seconds(key: str, default: float, positive: bool = False) -> float:
        return r.number(fields[key], f"{key} of {what}", positive=positive) if key in fields else default

    steps = tuple(
        _step(r, n, name, skills) for n in (r.sequence(fields["escalation"], f"escalation of {what}")
                                            if "escalation" in fields else [])
    )
    record = False
    if "record" in fields:
        value = r.scalar(fields["record"], f"record of {what}")
        if not isinstance(value, bool):
            raise r.fail(fields["record"], f"record of {what} must be true or false, not {value!r}")
        record = value
    return Queue(
        name=name,
        skills=skills,
        strategy=strategy,
        wrap_up_seconds=seconds("wrap_up_seconds", defaults.wrap_up_seconds),
        ring_timeout=seconds("ring_timeout", defaults.ring_timeout, positive=True),
        max_wait=seconds("max_wait", defaults.max_wait, positive=True),
        announce_interval=seconds("announce_interval", defaults.announce_interval, positive=True),
        escalation=tuple(sorted(steps, key=lambda s: s.after_seconds)),
        default_handle_seconds=seconds(
            "default_handle_seconds", defaults.default_handle_seconds, positive=True
        ),
        record=record,
    )


def _unique(r: _Reader, nodes: list[Node], ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for node, ident in zip(nodes, ids, strict=True):
        if ident in seen:
            raise r.fail(node, f"{what} {ident!r} is defined twice")
        seen.add(ident)


def parse_acd_config(text: str, source: str = "<acd.yaml>") -> AcdConfig:
    """Parse the text of an ``acd.yaml``; raises ``AcdConfigError`` naming ``source:line``."""
    r = _Reader(source)
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise AcdConfigError(source, line, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if root is None:
        raise AcdConfigError(source, None, "empty file: expected 'agents' and 'queues'")
    top = r.mapping(root, "the file", frozenset({"agents", "queues"}))
    agent_nodes = r.sequence(top["agents"], "agents") if "agents" in top else []
    queue_nodes = r.sequence(top["queues"], "queues") if "queues" in top else []
    agents = tuple(_agent(r, n, i) for i, n in enumerate(agent_nodes))
    queues = tuple(_queue(r, n, i) for i, n in enumerate(queue_nodes))
    if not queues:
        raise r.fail(root, "at least one queue is needed")
    _unique(r, agent_nodes, [a.id for a in agents], "agent")
    _unique(r, queue_nodes, [q.name for q in queues], "queue")
    return AcdConfig(agents, queues)


def load_acd_config(path: Path) -> AcdConfig:
    """Read and parse ``path``; a missing or unreadable file is an ``AcdConfigError`` too."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AcdConfigError(str(path), None, f"cannot read: {exc.strerror}") from None
    return parse_acd_config(text, str(path))
