"""``set``: give variables templated values, then go on."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ivr_engine.flow.fields import IDENT, Fields
from ivr_engine.flow.model import Flow, FlowDefaults, NodeBase
from ivr_engine.flow.nodes.base import NodeSpec, Where, schema_name
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import Step

__all__ = ["SPEC", "SetNode"]


@dataclass(frozen=True, kw_only=True)
class SetNode(NodeBase):
    type_name = "set"
    values: Mapping[str, str]  # variable -> template
    next: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next

    def templates(self) -> Iterator[str]:
        yield from self.values.values()

    def assigned(self, lookup_values: Mapping[str, frozenset[str]]) -> set[str]:
        return set(self.values)


def read(f: Fields, where: Where, defaults: FlowDefaults) -> SetNode:
    values: dict[str, str] = {}
    for name, value in f.mapping("values", required=True).items():
        if not IDENT.match(name):
            f.error(value.line, f"{name[:80]!r} is not a variable name")
            continue
        if isinstance(value.value, bool) or not isinstance(value.value, str | int | float):
            f.error(value.line, f"value of {name!r} must be text, a number or a template")
            continue
        f.check_template(value.line, str(value.value))
        values[name] = str(value.value)
    return SetNode(id=where.id, source=where.source, values=values, next=f.target("next"))


async def run(node: SetNode, call: CallState, flow: Flow) -> Step:
    for name, template in node.values.items():
        call.variables[name] = call.render(template)
        if call.is_sensitive(template):
            call.sensitive.add(name)
        else:
            call.sensitive.discard(name)
    return Step("next", node.next)


SPEC = NodeSpec(
    cls=SetNode,
    fields={
        "values": {
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
            "additionalProperties": {"type": ["string", "number"]},
            "description": "variable -> template",
        },
        "next": schema_name("the node after"),
    },
    required=("values", "next"),
    read=read,
    run=run,
    description="Set variables.",
)
