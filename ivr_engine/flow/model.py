"""The flow model: ``Flow`` holding nodes by id, the ``NodeBase`` every node type derives from, and the
values nodes and flows share (``Source``, ``Speech``, ``FlowDefaults``).

Each node type lives in its own module under ``ivr_engine.flow.nodes`` (its dataclass, how it is read,
run and checked); ``ivr_engine.flow.registry`` lists them. Every node remembers where it was written
(``Source``), so the validator and the runtime can point a flow designer at ``file:line``. Targets are
node ids within the same flow; a ``call`` node names another flow. Templated strings stay as source text
here; ``ivr_engine.flow.templates`` renders them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ivr_engine.flow.templates import template_variables

__all__ = ["NO_SPEECH", "Flow", "FlowDefaults", "NodeBase", "Source", "Speech"]


@dataclass(frozen=True)
class Source:
    """Where a node (or flow) was written."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Speech:
    """What a node says: catalogue prompts in order, then an optional templated text (TTS)."""

    prompts: tuple[str, ...] = ()
    text: str | None = None

    def __bool__(self) -> bool:
        return bool(self.prompts) or self.text is not None


NO_SPEECH = Speech()


@dataclass(frozen=True)
class FlowDefaults:
    """Flow-wide defaults; ``retries`` counts the re-prompts after the first try."""

    retries: int = 2
    timeout: float = 5.0
    inter_digit_timeout: float = 3.0
    language: str | None = None  # None: the caller's language (the service's, or the calling flow's)


@dataclass(frozen=True, kw_only=True)
class NodeBase:
    """What every node type shares: its id, where it was written, and what the checks ask of it."""

    id: str
    source: Source

    type_name = ""

    def targets(self) -> Iterator[tuple[str, str]]:
        """(exit name, target node id) for every exit this node can take."""
        return iter(())

    @property
    def takes_input(self) -> bool:
        """True when the node waits for the caller (a loop through it cannot spin)."""
        return False

    def speeches(self) -> Iterator[Speech]:
        """Everything the node can say (prompt ids are checked against the catalogue)."""
        return iter(())

    def templates(self) -> Iterator[str]:
        """Every template the node renders besides its speeches' texts."""
        return iter(())

    def variables_used(self) -> set[str]:
        """The variables the node's templates (and conditions) read."""
        used: set[str] = set()
        for speech in self.speeches():
            if speech.text is not None:
                used |= template_variables(speech.text)
        for template in self.templates():
            used |= template_variables(template)
        return used

    def assigned(self, lookup_values: Mapping[str, frozenset[str]]) -> set[str]:
        """The variables the node sets (``lookup_values``: what each named lookup gives)."""
        return set()


@dataclass(frozen=True)
class Flow:
    """A loaded flow: its name (file stem unless given), defaults, start node and nodes by id."""

    name: str
    path: Path
    start: str
    defaults: FlowDefaults
    nodes: Mapping[str, NodeBase] = field(default_factory=dict)
    description: str = ""

    def node(self, node_id: str) -> NodeBase:
        return self.nodes[node_id]
