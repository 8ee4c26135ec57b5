"""``hangup``: say goodbye (optional) and end the call."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ivr_engine.flow.fields import Fields
from ivr_engine.flow.model import NO_SPEECH, Flow, FlowDefaults, NodeBase, Speech
from ivr_engine.flow.nodes.base import SPEECH_FIELDS, NodeSpec, Where
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import End, Step

__all__ = ["SPEC", "HangupNode"]


@dataclass(frozen=True, kw_only=True)
class HangupNode(NodeBase):
    type_name = "hangup"
    speech: Speech = NO_SPEECH

    def speeches(self) -> Iterator[Speech]:
        yield self.speech


def read(f: Fields, where: Where, defaults: FlowDefaults) -> HangupNode:
    return HangupNode(id=where.id, source=where.source, speech=f.speech_fields())


async def run(node: HangupNode, call: CallState, flow: Flow) -> Step:
    if node.speech:
        await call.channel.play(call.media(node.speech))
    await call.channel.hangup()
    return Step("completed", None, end=End.HANGUP)


SPEC = NodeSpec(
    cls=HangupNode, fields=dict(SPEECH_FIELDS), required=(), read=read, run=run, description="End the call."
)
