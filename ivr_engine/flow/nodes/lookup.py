"""``lookup``: run a named query with templated parameters; ``found`` / ``not_found`` / ``error``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ivr_engine.flow.checks import NodeChecks
from ivr_engine.flow.fields import IDENT, Fields
from ivr_engine.flow.hints import did_you_mean
from ivr_engine.flow.model import Flow, FlowDefaults, NodeBase
from ivr_engine.flow.nodes.base import NodeSpec, Where, schema_name
from ivr_engine.flow.ports import LookupStatus
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import MASK, Step

__all__ = ["SPEC", "LookupNode"]


@dataclass(frozen=True, kw_only=True)
class LookupNode(NodeBase):
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

    def templates(self) -> Iterator[str]:
        yield from self.params.values()

    def assigned(self, lookup_values: Mapping[str, frozenset[str]]) -> set[str]:
        fields = set(self.into) if self.into else set(lookup_values.get(self.query, ()))
        return {self.into.get(name, name) for name in fields}


def read(f: Fields, where: Where, defaults: FlowDefaults) -> LookupNode:
    params: dict[str, str] = {}
    for name, value in f.mapping("params").items():
        if not isinstance(value.value, str | int) or isinstance(value.value, bool):
            f.error(value.line, f"lookup parameter {name!r} must be text or a template")
            continue
        f.check_template(value.line, str(value.value))
        params[name] = str(value.value)
    into: dict[str, str] = {}
    for name, value in f.mapping("into").items():
        if not isinstance(value.value, str) or not IDENT.match(value.value):
            f.error(value.line, f"'into' maps result field {name!r} to a variable name")
            continue
        into[name] = value.value
    return LookupNode(
        id=where.id,
        source=where.source,
        query=f.required("query"),
        params=params,
        into=into,
        found=f.target("found"),
        not_found=f.target("not_found"),
        error=f.target("error"),
    )


async def run(node: LookupNode, call: CallState, flow: Flow) -> Step:
    params = {name: call.render(template) for name, template in node.params.items()}
    shown = " ".join(
        f"{name}={MASK if call.is_sensitive(node.params[name]) else value}" for name, value in params.items()
    )
    result = await call.services.lookups.run(node.query, params)
    if result.status is LookupStatus.FOUND:
        for name, value in result.values.items():
            if node.into and name not in node.into:
                continue
            variable = node.into.get(name, name)
            call.variables[variable] = value
            call.sensitive.discard(variable)
        return Step("found", node.found, shown or None)
    if result.status is LookupStatus.NOT_FOUND:
        return Step("not_found", node.not_found, shown or None)
    return Step("error", node.error, shown or None)


def check(node: LookupNode, checks: NodeChecks) -> None:
    signature = checks.lookups.get(node.query)
    if signature is None:
        known = ", ".join(sorted(checks.lookups))
        hint = did_you_mean(node.query, checks.lookups)
        checks.error(node, f"unknown lookup {node.query!r}{hint} (known: {known})")
        return
    if set(node.params) != signature.params:
        checks.error(
            node,
            f"lookup {node.query!r} takes parameters ({', '.join(sorted(signature.params))}),"
            f" got ({', '.join(sorted(node.params))})",
        )
    unknown = set(node.into) - signature.values
    if unknown:
        checks.error(
            node,
            f"lookup {node.query!r} gives no {', '.join(sorted(unknown))}"
            f" (it gives {', '.join(sorted(signature.values))})",
        )


SPEC = NodeSpec(
    cls=LookupNode,
    fields={
        "query": {"type": "string", "description": "the named query (customer_by_phone, account_auth, ...)"},
        "params": {
            "type": "object",
            "additionalProperties": {"type": ["string", "integer"]},
            "description": "parameter -> template",
        },
        "into": {
            "type": "object",
            "additionalProperties": schema_name("variable"),
            "description": "result field -> variable (default: every field under its own name)",
        },
        "found": schema_name("the node after a found row"),
        "not_found": schema_name("the node when nothing matches"),
        "error": schema_name("the node when the lookup fails"),
    },
    required=("query", "found", "not_found", "error"),
    read=read,
    run=run,
    check=check,
    description="Run a named query.",
)
