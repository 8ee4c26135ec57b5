"""The node model: the ``Node`` union of every node type, and ``Flow`` holding nodes by id.

Each node type lives in its own module under ``ivr_engine.flow.nodes`` (its dataclass, how it is read,
run and checked); this module gathers the classes so the rest of the code can import them in one place.
Every node remembers where it was written (``Source``), so the validator and the runtime can point a
flow designer at ``file:line``. Targets are node ids within the same flow; ``CallNode`` names another
flow. Templated strings stay as source text here; ``ivr_engine.flow.templates`` renders them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ivr_engine.flow.nodes.base import FlowDefaults, NodeBase, Source, Speech
from ivr_engine.flow.nodes.branch import BranchNode, Condition
from ivr_engine.flow.nodes.call import CallNode
from ivr_engine.flow.nodes.gather import GatherNode
from ivr_engine.flow.nodes.goto import GotoNode
from ivr_engine.flow.nodes.hangup import HangupNode
from ivr_engine.flow.nodes.hours import HoursNode, OpenRange
from ivr_engine.flow.nodes.lookup import LookupNode
from ivr_engine.flow.nodes.menu import MenuNode
from ivr_engine.flow.nodes.play import PlayNode
from ivr_engine.flow.nodes.record import RecordNode
from ivr_engine.flow.nodes.return_ import ReturnNode
from ivr_engine.flow.nodes.say import SayNode
from ivr_engine.flow.nodes.set import SetNode
from ivr_engine.flow.nodes.survey import SurveyNode, SurveyQuestion
from ivr_engine.flow.nodes.transfer import TransferNode

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
    "NodeBase",
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
