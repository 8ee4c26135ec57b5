"""``return``: end a sub-flow (back to the calling ``call`` node); at the top level, end the call."""

from __future__ import annotations

from dataclasses import dataclass

from ivr_engine.flow.fields import Fields
from ivr_engine.flow.model import Flow, FlowDefaults, NodeBase
from ivr_engine.flow.nodes.base import NodeSpec, Where
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import End, Step

__all__ = ["SPEC", "ReturnNode"]


@dataclass(frozen=True, kw_only=True)
class ReturnNode(NodeBase):
    """End a sub-flow; in a top-level flow it ends the call like ``hangup``."""

    type_name = "return"


def read(f: Fields, where: Where, defaults: FlowDefaults) -> ReturnNode:
    return ReturnNode(id=where.id, source=where.source)


async def run(node: ReturnNode, call: CallState, flow: Flow) -> Step:
    return Step("return", None, end=End.RETURN)


SPEC = NodeSpec(cls=ReturnNode, fields={}, required=(), read=read, run=run, description="End a sub-flow.")
