"""The node model: one frozen dataclass per node type, and ``Flow`` holding them by id.

Every node remembers where it was written (``Source``), so the validator and the runtime can point a
flow designer at ``file:line``. Targets are node ids within the same flow; ``CallNode`` names another
flow. Templated strings stay as source text here; ``ivr_engine.flow.templates`` renders them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from ivr_engine.channel import DtmfKey, SayKind
from ivr_engine.flow.expr import Expr
from ivr_engine.flow.ports import TransferOutcome

__all__ = [
    "BranchNode",
    "CallNode",
    "Condition",
    "Flow",
    "FlowDefaults",
    "GatherNode",
    "GotoNode",
    "HangupNode",
    "HoursNode",
    "LookupNode",
    "MenuNode",
    "Node",
    "OpenRange",
    "PlayNode",
    "RecordNode",
    "ReturnNode",
    "SayNode",
    "SetNode",
    "Source",
    "Speech",
    "SurveyNode",
    "SurveyQuestion",
    "TransferNode",
]


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


@dataclass(frozen=True)
class FlowDefaults:
    """Flow-wide defaults; ``retries`` counts the re-prompts after the first try."""

    retries: int = 2
    timeout: float = 5.0
    inter_digit_timeout: float = 3.0
    language: str = "en"


@dataclass(frozen=True, kw_only=True)
class _Base:
    id: str
    source: Source

    type_name = ""

    def targets(self) -> Iterator[tuple[str, str]]:
        """(exit name, target node id) for every exit this node can take."""
        return iter(())

    @property
    def takes_input(self) -> bool:
        return False


@dataclass(frozen=True, kw_only=True)
class PlayNode(_Base):
    type_name = "play"
    speech: Speech
    barge_in: bool = False
    next: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next


@dataclass(frozen=True, kw_only=True)
class MenuNode(_Base):
    type_name = "menu"
    speech: Speech
    choices: Mapping[DtmfKey, str]
    retries: int
    timeout: float
    invalid_speech: Speech = Speech()
    no_input_speech: Speech = Speech()
    on_fail: str

    def targets(self) -> Iterator[tuple[str, str]]:
        for key, target in self.choices.items():
            yield key.value, target
        yield "fail", self.on_fail

    @property
    def takes_input(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class GatherNode(_Base):
    type_name = "gather"
    speech: Speech
    into: str
    min_digits: int = 1
    max_digits: int = 20
    terminator: DtmfKey | None = DtmfKey.POUND
    timeout: float
    inter_digit_timeout: float
    pattern: str | None = None
    sensitive: bool = False
    retries: int
    invalid_speech: Speech = Speech()
    no_input_speech: Speech = Speech()
    next: str
    on_fail: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next
        yield "fail", self.on_fail

    @property
    def takes_input(self) -> bool:
        return True


@dataclass(frozen=True, kw_only=True)
class LookupNode(_Base):
    type_name = "lookup"
    query: str
    params: Mapping[str, str]  # parameter -> template
    into: Mapping[str, str]  # result field -> variable; empty = every field under its own name
    found: str
    not_found: str
    error: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "found", self.found
        yield "not_found", self.not_found
        yield "error", self.error


@dataclass(frozen=True)
class Condition:
    expr: Expr
    target: str
    line: int


@dataclass(frozen=True, kw_only=True)
class BranchNode(_Base):
    type_name = "branch"
    conditions: tuple[Condition, ...]
    otherwise: str

    def targets(self) -> Iterator[tuple[str, str]]:
        for number, condition in enumerate(self.conditions, 1):
            yield f"when{number}", condition.target
        yield "else", self.otherwise


@dataclass(frozen=True, kw_only=True)
class SetNode(_Base):
    type_name = "set"
    values: Mapping[str, str]  # variable -> template
    next: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next


@dataclass(frozen=True, kw_only=True)
class SayNode(_Base):
    type_name = "say"
    kind: SayKind
    value: str  # template
    speech: Speech = Speech()  # said before the value
    after: Speech = Speech()  # said after the value
    next: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next


@dataclass(frozen=True, kw_only=True)
class GotoNode(_Base):
    type_name = "goto"
    target: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.target


@dataclass(frozen=True, kw_only=True)
class CallNode(_Base):
    """Run another flow as a sub-flow; its ``return`` node comes back here and goes to ``next``."""

    type_name = "call"
    flow: str
    next: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next


@dataclass(frozen=True, kw_only=True)
class ReturnNode(_Base):
    """End a sub-flow; in a top-level flow it ends the call like ``hangup``."""

    type_name = "return"


@dataclass(frozen=True, kw_only=True)
class TransferNode(_Base):
    type_name = "transfer"
    queue: str
    skills: Mapping[str, int]
    priority: str  # template rendering to an integer
    speech: Speech = Speech()
    exits: Mapping[TransferOutcome, str]
    next: str | None = None  # any outcome without its own exit

    def targets(self) -> Iterator[tuple[str, str]]:
        for outcome, target in self.exits.items():
            yield outcome.value, target
        if self.next is not None:
            yield "next", self.next

    def exit_for(self, outcome: TransferOutcome) -> str | None:
        return self.exits.get(outcome, self.next)


@dataclass(frozen=True, kw_only=True)
class RecordNode(_Base):
    """Record the caller; with ``mailbox`` the recording is stored as a voicemail."""

    type_name = "record"
    speech: Speech = Speech()
    max_seconds: float = 120.0
    beep: bool = True
    terminator: DtmfKey | None = DtmfKey.POUND
    mailbox: str | None = None  # template
    next: str
    empty: str | None = None  # nothing recorded; defaults to next

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next
        if self.empty is not None:
            yield "empty", self.empty

    @property
    def takes_input(self) -> bool:
        return True


@dataclass(frozen=True)
class SurveyQuestion:
    id: str
    speech: Speech


@dataclass(frozen=True, kw_only=True)
class SurveyNode(_Base):
    type_name = "survey"
    survey: str
    questions: tuple[SurveyQuestion, ...]
    retries: int
    timeout: float
    invalid_speech: Speech = Speech()
    no_input_speech: Speech = Speech()
    next: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next

    @property
    def takes_input(self) -> bool:
        return True


@dataclass(frozen=True)
class OpenRange:
    start: time
    end: time


@dataclass(frozen=True, kw_only=True)
class HoursNode(_Base):
    type_name = "hours"
    timezone: str
    weekly: Mapping[int, tuple[OpenRange, ...]]  # weekday (0 = Monday) -> open ranges
    holidays: frozenset[date] = frozenset()
    open: str
    closed: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "open", self.open
        yield "closed", self.closed


@dataclass(frozen=True, kw_only=True)
class HangupNode(_Base):
    type_name = "hangup"
    speech: Speech = Speech()


Node = (
    PlayNode
    | MenuNode
    | GatherNode
    | LookupNode
    | BranchNode
    | SetNode
    | SayNode
    | GotoNode
    | CallNode
    | ReturnNode
    | TransferNode
    | RecordNode
    | SurveyNode
    | HoursNode
    | HangupNode
)


@dataclass(frozen=True)
class Flow:
    """A loaded flow: its name (file stem unless given), defaults, start node and nodes by id."""

    name: str
    path: Path
    start: str
    defaults: FlowDefaults
    nodes: Mapping[str, Node] = field(default_factory=dict)
    description: str = ""

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]
