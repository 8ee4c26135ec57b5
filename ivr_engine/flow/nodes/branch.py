"""``branch``: the first ``when`` condition that holds chooses the next node, else ``else``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ivr_engine.flow.expr import Expr, ExprSyntaxError, parse_expr
from ivr_engine.flow.fields import Fields
from ivr_engine.flow.model import Flow, FlowDefaults, NodeBase
from ivr_engine.flow.nodes.base import NodeSpec, Where, schema_name
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import Step

__all__ = ["SPEC", "BranchNode", "Condition"]


@dataclass(frozen=True)
class Condition:
    expr: Expr
    target: str
    line: int


@dataclass(frozen=True, kw_only=True)
class BranchNode(NodeBase):
    type_name = "branch"
    conditions: tuple[Condition, ...]
    otherwise: str

    def targets(self) -> Iterator[tuple[str, str]]:
        for number, condition in enumerate(self.conditions, 1):
            yield f"when{number}", condition.target
        yield "else", self.otherwise

    def variables_used(self) -> set[str]:
        used = super().variables_used()
        for condition in self.conditions:
            used |= condition.expr.variables()
        return used


def read(f: Fields, where: Where, defaults: FlowDefaults) -> BranchNode:
    def condition(entry: Fields) -> Condition | None:
        source = entry.required("if")
        target = entry.target("goto")
        if not source:
            return None
        try:
            return Condition(parse_expr(source), target, entry.item.line)
        except ExprSyntaxError as exc:
            entry.error(entry.line("if"), f"condition {source[:200]!r}: {exc}")
            return None

    shape = "{if: CONDITION, goto: NODE}"
    conditions = f.entries("when", shape, "'when' entry", "a 'when' entry", condition)
    return BranchNode(
        id=where.id, source=where.source, conditions=tuple(conditions), otherwise=f.target("else")
    )


async def run(node: BranchNode, call: CallState, flow: Flow) -> Step:
    for number, condition in enumerate(node.conditions, 1):
        if condition.expr.evaluate(call.variables):
            return Step(f"when{number}", condition.target)
    return Step("else", node.otherwise)


SPEC = NodeSpec(
    cls=BranchNode,
    fields={
        "when": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "if": {"type": "string", "description": "a condition (docs/flows.md, Conditions)"},
                    "goto": schema_name("the node when the condition holds"),
                },
                "required": ["if", "goto"],
                "additionalProperties": False,
            },
            "description": "conditions tried in order",
        },
        "else": schema_name("the node when no condition holds"),
    },
    required=("when", "else"),
    read=read,
    run=run,
    description="Choose the next node by conditions on variables.",
)
