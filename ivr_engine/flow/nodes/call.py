"""``call``: run another flow as a sub-flow; its ``return`` comes back here and goes on to ``next``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ivr_engine.flow.checks import NodeChecks
from ivr_engine.flow.errors import FlowRuntimeError
from ivr_engine.flow.fields import Fields
from ivr_engine.flow.hints import did_you_mean
from ivr_engine.flow.model import Flow, FlowDefaults, NodeBase
from ivr_engine.flow.nodes.base import NodeSpec, Where, schema_name
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import End, Step

__all__ = ["MAX_CALL_DEPTH", "SPEC", "CallNode"]

MAX_CALL_DEPTH = 50  # sub-flows calling sub-flows (a flow that calls itself) end with an error this deep


@dataclass(frozen=True, kw_only=True)
class CallNode(NodeBase):
    """Run another flow as a sub-flow; its ``return`` node comes back here and goes to ``next``."""

    type_name = "call"
    flow: str
    next: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next


def read(f: Fields, where: Where, defaults: FlowDefaults) -> CallNode:
    return CallNode(id=where.id, source=where.source, flow=f.name("flow") or "", next=f.target("next"))


async def run(node: CallNode, call: CallState, flow: Flow) -> Step:
    sub = call.services.flows.get(node.flow)
    if sub is None:
        raise FlowRuntimeError(f"sub-flow {node.flow!r} is not loaded")
    if call.depth >= MAX_CALL_DEPTH:
        raise FlowRuntimeError(f"sub-flows nested more than {MAX_CALL_DEPTH} deep: a flow calling itself?")
    parent = call.variables.get("parent_flow", "")
    call.variables["parent_flow"] = flow.name
    call.depth += 1
    try:
        end = await call.walk(sub, call)
    finally:
        call.depth -= 1
    call.variables["parent_flow"] = parent
    if end is End.RETURN:
        return Step("returned", node.next)
    outcome = {End.CALLER_GONE: "hangup", End.HANGUP: "completed", End.ERROR: "error"}[end]
    return Step(outcome, None, end=end)


def check(node: CallNode, checks: NodeChecks) -> None:
    if node.flow and node.flow not in checks.flow_names:
        hint = did_you_mean(node.flow, checks.flow_names)
        known = ", ".join(sorted(checks.flow_names))
        checks.error(node, f"sub-flow {node.flow!r} does not exist{hint} (known: {known})")


SPEC = NodeSpec(
    cls=CallNode,
    fields={"flow": schema_name("the flow to run"), "next": schema_name("the node after its return")},
    required=("flow", "next"),
    read=read,
    run=run,
    check=check,
    description="Run another flow as a sub-flow.",
)
