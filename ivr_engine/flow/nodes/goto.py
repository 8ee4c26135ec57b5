"""``goto``: jump to another node."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ivr_engine.flow.fields import Fields
from ivr_engine.flow.model import Flow, FlowDefaults, NodeBase
from ivr_engine.flow.nodes.base import NodeSpec, Where, schema_name
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import Step

__all__ = ["SPEC", "GotoNode"]


@dataclass(frozen=True, kw_only=True)
class GotoNode(NodeBase):
    type_name = "goto"
    target: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.target


def read(f: Fields, where: Where, defaults: FlowDefaults) -> GotoNode:
    return GotoNode(id=where.id, source=where.source, target=f.target("goto"))


async def run(node: GotoNode, call: CallState, flow: Flow) -> Step:
    return Step("next", node.target)


SPEC = NodeSpec(
    cls=GotoNode,
    fields={"goto": schema_name("the node to go to")},
    required=("goto",),
    read=read,
    run=run,
    description="Jump to another node.",
)
