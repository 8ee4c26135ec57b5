"""``transfer``: queue the caller for an agent; each ACD outcome may have its own exit."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ivr_engine.flow.checks import NodeChecks
from ivr_engine.flow.errors import FlowRuntimeError
from ivr_engine.flow.fields import Fields
from ivr_engine.flow.hints import did_you_mean
from ivr_engine.flow.model import NO_SPEECH, Flow, FlowDefaults, NodeBase, Speech
from ivr_engine.flow.nodes.base import SPEECH_FIELDS, NodeSpec, Where, schema_name
from ivr_engine.flow.ports import TransferOutcome, TransferRequest
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import Step

__all__ = ["RECORDING_NOTICE", "SPEC", "TransferNode"]

RECORDING_NOTICE = "recording_notice"
"""The catalogue prompt ("This call may be recorded...") played before queuing for a recorded queue."""


@dataclass(frozen=True, kw_only=True)
class TransferNode(NodeBase):
    type_name = "transfer"
    queue: str
    skills: Mapping[str, int]
    priority: str  # template rendering to an integer
    speech: Speech = NO_SPEECH
    exits: Mapping[TransferOutcome, str]
    next: str | None = None  # any outcome without its own exit

    def targets(self) -> Iterator[tuple[str, str]]:
        for outcome, target in self.exits.items():
            yield outcome.value, target
        if self.next is not None:
            yield "next", self.next

    def exit_for(self, outcome: TransferOutcome) -> str | None:
        return self.exits.get(outcome, self.next)

    def speeches(self) -> Iterator[Speech]:
        yield self.speech

    def templates(self) -> Iterator[str]:
        yield self.priority


def read(f: Fields, where: Where, defaults: FlowDefaults) -> TransferNode:
    skills: dict[str, int] = {}
    for skill, level in f.mapping("skills").items():
        if isinstance(level.value, bool) or not isinstance(level.value, int) or not 1 <= level.value <= 10:
            f.error(level.line, f"skill {skill!r} needs a level from 1 to 10")
            continue
        skills[skill] = level.value
    priority = f.raw("priority")
    priority_text = "0"
    if priority is not None:
        value = priority.value
        if (
            isinstance(value, bool)
            or not isinstance(value, int | str)
            or (isinstance(value, int) and abs(value) > 10**6)
        ):
            f.error(priority.line, "'priority' must be a whole number (at most 1000000) or a template")
        else:
            priority_text = str(value)
            f.check_template(priority.line, priority_text)
    exits: dict[TransferOutcome, str] = {}
    for outcome in TransferOutcome:
        target = f.optional_target(outcome.value)
        if target is not None:
            exits[outcome] = target
    fallback = f.optional_target("next")
    missing = [o.value for o in TransferOutcome if o not in exits]
    if missing and fallback is None and not f.has("next"):
        f.error(
            f.anchor_line,
            f"transfer needs 'next' or an exit for every outcome (missing: {', '.join(missing)})",
        )
    return TransferNode(
        id=where.id,
        source=where.source,
        queue=f.required("queue"),
        skills=skills,
        priority=priority_text,
        speech=f.speech_fields(),
        exits=exits,
        next=fallback,
    )


async def run(node: TransferNode, call: CallState, flow: Flow) -> Step:
    text = call.render(node.priority)
    if not re.fullmatch(r"-?\d{1,9}", text):
        raise FlowRuntimeError(f"priority {node.priority!r} gave {text[:40]!r}, not a whole number")
    speech = node.speech
    if node.queue in call.services.recorded_queues:  # consent first, in the caller's language
        speech = Speech(prompts=(RECORDING_NOTICE, *speech.prompts), text=speech.text)
    if speech:
        await call.channel.play(call.media(speech))
    request = TransferRequest(
        call_id=call.call_id,
        caller=call.channel.caller_id,
        queue=node.queue,
        skills=dict(node.skills),
        priority=int(text),
        variables=call.masked_variables(),
    )
    outcome = await call.services.transferrer.transfer(call.channel, request)
    if outcome is TransferOutcome.COMPLETED and (agent := call.services.transferrer.agent_of(call.call_id)):
        call.variables["agent_id"] = agent  # the post-call survey is stored against this agent
    target = node.exit_for(outcome)
    if target is None:
        raise FlowRuntimeError(f"transfer ended with {outcome.value!r} and the node has no exit for it")
    return Step(outcome.value, target, f"queue={node.queue} priority={int(text)}")


def check(node: TransferNode, checks: NodeChecks) -> None:
    acd = checks.acd
    if acd is None:
        return
    if node.queue and node.queue not in acd.queues:
        hint = did_you_mean(node.queue, acd.queues)
        known = ", ".join(sorted(acd.queues))
        checks.error(node, f"queue {node.queue!r} is not in {acd.file}{hint} (queues: {known})")
    for skill in sorted(set(node.skills) - acd.skills):
        hint = did_you_mean(skill, acd.skills)
        checks.error(node, f"skill {skill!r} is not in {acd.file}{hint}: no agent or queue has it")


SPEC = NodeSpec(
    cls=TransferNode,
    fields={
        "queue": {"type": "string", "description": "the ACD queue (acd.yaml)"},
        "skills": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 10},
            "description": "skill -> minimum level (1-10) for this call",
        },
        "priority": {
            "type": ["integer", "string"],
            "description": "a whole number or a template giving one; higher is served first",
        },
        **SPEECH_FIELDS,
        **{o.value: schema_name(f"the node after the outcome {o.value}") for o in TransferOutcome},
        "next": schema_name("the node after any outcome without its own exit"),
    },
    required=("queue",),
    read=read,
    run=run,
    check=check,
    description="Queue the caller for an agent.",
)
