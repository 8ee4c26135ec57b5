"""``play``: say something, then go on (a key can stop it with ``barge_in``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ivr_engine.flow.fields import Fields
from ivr_engine.flow.model import Flow, FlowDefaults, NodeBase, Speech
from ivr_engine.flow.nodes.base import SPEECH_FIELDS, NodeSpec, Where, schema_name
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import Step

__all__ = ["SPEC", "PlayNode"]


@dataclass(frozen=True, kw_only=True)
class PlayNode(NodeBase):
    type_name = "play"
    speech: Speech
    barge_in: bool = False
    next: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next

    def speeches(self) -> Iterator[Speech]:
        yield self.speech


def read(f: Fields, where: Where, defaults: FlowDefaults) -> PlayNode:
    return PlayNode(
        id=where.id,
        source=where.source,
        speech=f.speech_fields(),
        barge_in=f.flag("barge_in", False),
        next=f.target("next"),
    )


async def run(node: PlayNode, call: CallState, flow: Flow) -> Step:
    key = await call.channel.play(call.media(node.speech), barge_in=node.barge_in)
    return Step("next", node.next, key.value if key is not None else None)


SPEC = NodeSpec(
    cls=PlayNode,
    fields={
        **SPEECH_FIELDS,
        "barge_in": {
            "type": "boolean",
            "description": "a key stops the prompt and is kept for the next input",
        },
        "next": schema_name("the node after"),
    },
    required=("next",),
    read=read,
    run=run,
    description="Say something, then go on.",
)
