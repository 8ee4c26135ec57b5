"""``say``: speak a value the Asterisk way (number, digits, money, date, characters)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from ivr_engine.channel import Say, SayKind
from ivr_engine.flow.errors import FlowRuntimeError
from ivr_engine.flow.fields import Fields
from ivr_engine.flow.model import NO_SPEECH, Flow, FlowDefaults, NodeBase, Speech
from ivr_engine.flow.nodes.base import SPEECH_FIELDS, NodeSpec, Where, schema_name, schema_speech
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import MASK, Step

__all__ = ["SPEC", "SayNode"]


@dataclass(frozen=True, kw_only=True)
class SayNode(NodeBase):
    type_name = "say"
    kind: SayKind
    value: str  # template
    speech: Speech = NO_SPEECH  # said before the value
    after: Speech = NO_SPEECH  # said after the value
    next: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next

    def speeches(self) -> Iterator[Speech]:
        yield from (self.speech, self.after)

    def templates(self) -> Iterator[str]:
        yield self.value


def read(f: Fields, where: Where, defaults: FlowDefaults) -> SayNode:
    kind_text = f.required("kind")
    kind = SayKind.NUMBER
    if kind_text:
        try:
            kind = SayKind(kind_text)
        except ValueError:
            f.error(f.line("kind"), f"'kind' must be one of {', '.join(k.value for k in SayKind)}")
    return SayNode(
        id=where.id,
        source=where.source,
        kind=kind,
        value=f.template("value", required=True) or "",
        speech=f.speech_fields(),
        after=f.speech("after"),
        next=f.target("next"),
    )


def say_value(kind: SayKind, value: str) -> str:
    """Check and normalise a value before it is spoken; bad values are a runtime error."""
    try:
        if kind is SayKind.NUMBER and re.fullmatch(r"-?\d{1,30}", value):
            return str(int(value))
        if kind is SayKind.DIGITS and re.fullmatch(r"[0-9*#A-D]+", value):  # any DTMF keys
            return value
        if kind is SayKind.MONEY and len(value) <= 40:
            return str(Decimal(value).quantize(Decimal("0.01")))
        if kind is SayKind.DATE:
            return date.fromisoformat(value).isoformat()
        if kind is SayKind.CHARACTERS and re.fullmatch(r"[A-Za-z0-9]+", value):
            return value
    except (InvalidOperation, ValueError):
        pass
    raise FlowRuntimeError(f"cannot say {value[:80]!r} as {kind.value}")


async def run(node: SayNode, call: CallState, flow: Flow) -> Step:
    value = say_value(node.kind, call.render(node.value))
    media = [*call.media(node.speech), Say(node.kind, value, call.language), *call.media(node.after)]
    await call.channel.play(media)
    return Step("next", node.next, MASK if call.is_sensitive(node.value) else value)


SPEC = NodeSpec(
    cls=SayNode,
    fields={
        "kind": {"enum": [k.value for k in SayKind], "description": "how the value is spoken"},
        "value": {"type": ["string", "number"], "description": "a template giving the value"},
        **SPEECH_FIELDS,
        "after": schema_speech("said after the value"),
        "next": schema_name("the node after"),
    },
    required=("kind", "value", "next"),
    read=read,
    run=run,
    description="Speak a value: number, digits, money, date or characters.",
)
