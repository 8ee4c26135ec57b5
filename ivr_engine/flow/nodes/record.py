"""``record``: record the caller; with ``mailbox`` the recording is kept as a voicemail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ivr_engine.channel import DtmfKey
from ivr_engine.flow.fields import Fields
from ivr_engine.flow.model import NO_SPEECH, Flow, FlowDefaults, NodeBase, Speech
from ivr_engine.flow.nodes.base import SPEECH_FIELDS, NodeSpec, Where, schema_key, schema_name, schema_number
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import Step

__all__ = ["SPEC", "RecordNode"]


@dataclass(frozen=True, kw_only=True)
class RecordNode(NodeBase):
    """Record the caller; with ``mailbox`` the recording is stored as a voicemail."""

    type_name = "record"
    speech: Speech = NO_SPEECH
    max_seconds: float = 120.0
    max_silence: float = 5.0
    """Seconds of silence that end the recording (0: only the key, the limit or a hang-up end it)."""
    beep: bool = True
    terminator: DtmfKey | None = DtmfKey.POUND
    mailbox: str | None = None  # template
    next: str
    empty: str | None = None  # nothing recorded; defaults to next

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next
        if self.empty is not None:
            yield "empty", self.empty

    @property
    def takes_input(self) -> bool:
        return True

    def speeches(self) -> Iterator[Speech]:
        yield self.speech

    def templates(self) -> Iterator[str]:
        if self.mailbox is not None:
            yield self.mailbox


def read(f: Fields, where: Where, defaults: FlowDefaults) -> RecordNode:
    return RecordNode(
        id=where.id,
        source=where.source,
        speech=f.speech_fields(),
        max_seconds=f.number("max_seconds", 120.0, float, 1, 3600),
        max_silence=f.number("max_silence_seconds", 5.0, float, 0, 3600),
        beep=f.flag("beep", True),
        terminator=f.key("terminator"),
        mailbox=f.template("mailbox"),
        next=f.target("next"),
        empty=f.optional_target("empty"),
    )


async def run(node: RecordNode, call: CallState, flow: Flow) -> Step:
    if node.speech:
        await call.channel.play(call.media(node.speech))
    recording = await call.channel.record(
        name=f"{call.call_id}-{node.id}-{call.seq}",
        max_seconds=node.max_seconds,
        beep=node.beep,
        terminator=node.terminator,
        max_silence=node.max_silence,
    )
    shown = f"{recording.duration:.1f}s"
    if recording.duration < 1.0:
        await call.channel.discard(recording)
        return Step("empty", node.empty or node.next, shown)
    if recording.talking is not None and recording.talking < 1.0:  # nothing said: not a message
        await call.channel.discard(recording)
        return Step("empty", node.empty or node.next, f"silent {shown}")
    if node.mailbox is not None:
        await call.services.voicemails.save_voicemail(
            call_id=call.call_id,
            caller=call.channel.caller_id,
            mailbox=call.render(node.mailbox),
            recording=recording,
        )
    return Step("recorded", node.next, shown)


SPEC = NodeSpec(
    cls=RecordNode,
    fields={
        **SPEECH_FIELDS,
        "max_seconds": schema_number("longest recording in seconds", 1, 3600),
        "max_silence_seconds": schema_number(
            "seconds of silence that end the recording (default 5; 0: never); a recording with no speech "
            "is discarded and leaves by `empty`", 0, 3600),
        "beep": {"type": "boolean", "description": "beep before recording (default true)"},
        "terminator": schema_key("the key that ends the recording (default #)"),
        "mailbox": {"type": "string", "description": "template naming the mailbox: keep as a voicemail"},
        "next": schema_name("the node after a recording"),
        "empty": schema_name("the node when nothing was recorded (default: next)"),
    },
    required=("next",),
    read=read,
    run=run,
    description="Record the caller.",
)
