"""The flow interpreter: pure asyncio, talking only to a ``Channel`` and the ports in ``FlowServices``.

``run_flow`` walks nodes from the start node. Each node type has one small handler that does its
work through the channel/ports and returns a ``Step`` (the exit taken, the next node, the masked
input). Every node entered is reported to ``node_log.record`` with a per-call sequence number, even
when the caller hangs up in the middle of it (outcome ``hangup``). The interpreter does not flush the
node log: whoever owns the call does that when the call ends.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from ivr_engine.channel import CallerHungUp, Channel, ChannelError, Digits, Media, Prompt, Say, SayKind, Tts
from ivr_engine.flow.errors import FlowRuntimeError
from ivr_engine.flow.hours import is_open, local_time
from ivr_engine.flow.model import (
    BranchNode,
    CallNode,
    Flow,
    GatherNode,
    GotoNode,
    HangupNode,
    HoursNode,
    LookupNode,
    MenuNode,
    Node,
    PlayNode,
    RecordNode,
    ReturnNode,
    SayNode,
    SetNode,
    Speech,
    SurveyNode,
    TransferNode,
)
from ivr_engine.flow.ports import LookupStatus, NodeEntry, NodeEvent, TransferOutcome, TransferRequest
from ivr_engine.flow.services import FlowServices
from ivr_engine.flow.templates import render, template_variables

__all__ = ["MASK", "MAX_CALL_DEPTH", "MAX_STEPS", "EndReason", "FlowResult", "run_flow"]

MASK = "****"
MAX_STEPS = 10_000  # a runaway flow (no caller input in a loop) ends with an error after this many nodes
MAX_CALL_DEPTH = 50  # sub-flows calling sub-flows (a flow that calls itself) end with an error this deep


class EndReason(StrEnum):
    COMPLETED = "completed"  # a hangup or top-level return node ended the call
    CALLER_HUNG_UP = "caller_hangup"
    ERROR = "error"


class _End(StrEnum):
    RETURN = "return"
    HANGUP = "hangup"
    CALLER_GONE = "caller_gone"
    ERROR = "error"


@dataclass(frozen=True)
class FlowResult:
    """How a call's flow ended; ``variables`` has sensitive values masked."""

    reason: EndReason
    flow: str
    node: str
    steps: int
    variables: Mapping[str, str]
    error: str = ""


@dataclass(frozen=True)
class Step:
    """A handler's answer: the exit taken, where to go (None ends the flow), the logged input."""

    outcome: str
    next: str | None = None
    input: str | None = None
    end: _End | None = None


@dataclass
class _Call:
    channel: Channel
    services: FlowServices
    call_id: str
    variables: dict[str, str]
    sensitive: set[str] = field(default_factory=set)
    seq: int = 0
    steps: int = 0
    error: str = ""
    last: tuple[str, str] = ("", "")
    language: str = "en"
    depth: int = 0  # sub-flow calls in progress

    def masked(self, name: str, value: str) -> str:
        return MASK if name in self.sensitive else value

    def masked_variables(self) -> dict[str, str]:
        return {name: self.masked(name, value) for name, value in self.variables.items()}

    def render(self, template: str) -> str:
        return render(template, self.variables)

    def is_sensitive(self, template: str) -> bool:
        return bool(template_variables(template) & self.sensitive)

    def media(self, speech: Speech) -> list[Media]:
        catalogue = self.services.catalogue
        items: list[Media] = [
            Prompt(pid, catalogue.text(pid, self.language) if catalogue.has(pid, self.language) else "")
            for pid in speech.prompts
        ]
        if speech.text is not None:
            items.append(Tts(self.render(speech.text)))
        return items


async def _play(node: PlayNode, call: _Call, flow: Flow) -> Step:
    key = await call.channel.play(call.media(node.speech), barge_in=node.barge_in)
    return Step("next", node.next, key.value if key is not None else None)


async def _retry_prompt(call: _Call, digits: Digits, invalid: Speech, no_input: Speech) -> None:
    speech = no_input if not digits.keys else invalid
    if speech:
        await call.channel.play(call.media(speech))


def _failure(digits: Digits) -> str:
    return "timeout" if not digits.keys else "invalid"


async def _menu(node: MenuNode, call: _Call, flow: Flow) -> Step:
    digits = Digits(())
    for attempt in range(node.retries + 1):
        if attempt:
            await _retry_prompt(call, digits, node.invalid_speech, node.no_input_speech)
        digits = await call.channel.collect(
            prompt=call.media(node.speech),
            max_digits=1,
            terminator=None,
            first_timeout=node.timeout,
            inter_timeout=node.timeout,
        )
        if digits.keys and digits.keys[0] in node.choices:
            target = node.choices[digits.keys[0]]
            return Step(target, target, digits.text)
    return Step(_failure(digits), node.on_fail, digits.text or None)


def _valid_gather(node: GatherNode, digits: Digits) -> bool:
    text = digits.text
    if not node.min_digits <= len(text) <= node.max_digits:
        return False
    return node.pattern is None or re.fullmatch(node.pattern, text) is not None


async def _gather(node: GatherNode, call: _Call, flow: Flow) -> Step:
    digits = Digits(())

    def shown(d: Digits) -> str | None:
        return (MASK if node.sensitive else d.text) if d.keys else None

    for attempt in range(node.retries + 1):
        if attempt:
            await _retry_prompt(call, digits, node.invalid_speech, node.no_input_speech)
        digits = await call.channel.collect(
            prompt=call.media(node.speech),
            max_digits=node.max_digits,
            terminator=node.terminator,
            first_timeout=node.timeout,
            inter_timeout=node.inter_digit_timeout,
        )
        if _valid_gather(node, digits):
            call.variables[node.into] = digits.text
            if node.sensitive:
                call.sensitive.add(node.into)
            else:
                call.sensitive.discard(node.into)
            return Step("next", node.next, shown(digits))
    return Step(_failure(digits), node.on_fail, shown(digits))


async def _lookup(node: LookupNode, call: _Call, flow: Flow) -> Step:
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


async def _branch(node: BranchNode, call: _Call, flow: Flow) -> Step:
    for number, condition in enumerate(node.conditions, 1):
        if condition.expr.evaluate(call.variables):
            return Step(f"when{number}", condition.target)
    return Step("else", node.otherwise)


async def _set(node: SetNode, call: _Call, flow: Flow) -> Step:
    for name, template in node.values.items():
        call.variables[name] = call.render(template)
        if call.is_sensitive(template):
            call.sensitive.add(name)
        else:
            call.sensitive.discard(name)
    return Step("next", node.next)


def _say_value(kind: SayKind, value: str) -> str:
    """Check and normalise a value before it is spoken; bad values are a runtime error."""
    try:
        if kind is SayKind.NUMBER and re.fullmatch(r"-?\d+", value):
            return str(int(value))
        if kind is SayKind.DIGITS and re.fullmatch(r"[0-9*#A-D]+", value):  # any DTMF keys
            return value
        if kind is SayKind.MONEY:
            return str(Decimal(value).quantize(Decimal("0.01")))
        if kind is SayKind.DATE:
            return date.fromisoformat(value).isoformat()
        if kind is SayKind.CHARACTERS and re.fullmatch(r"[A-Za-z0-9]+", value):
            return value
    except (InvalidOperation, ValueError):
        pass
    raise FlowRuntimeError(f"cannot say {value!r} as {kind.value}")


async def _say(node: SayNode, call: _Call, flow: Flow) -> Step:
    value = _say_value(node.kind, call.render(node.value))
    media = [*call.media(node.speech), Say(node.kind, value), *call.media(node.after)]
    await call.channel.play(media)
    return Step("next", node.next, MASK if call.is_sensitive(node.value) else value)


async def _goto(node: GotoNode, call: _Call, flow: Flow) -> Step:
    return Step("next", node.target)


async def _call_flow(node: CallNode, call: _Call, flow: Flow) -> Step:
    sub = call.services.flows.get(node.flow)
    if sub is None:
        raise FlowRuntimeError(f"sub-flow {node.flow!r} is not loaded")
    if call.depth >= MAX_CALL_DEPTH:
        raise FlowRuntimeError(f"sub-flows nested more than {MAX_CALL_DEPTH} deep: a flow calling itself?")
    parent = call.variables.get("parent_flow", "")
    call.variables["parent_flow"] = flow.name
    call.depth += 1
    try:
        end = await _walk(sub, call)
    finally:
        call.depth -= 1
    call.variables["parent_flow"] = parent
    if end is _End.RETURN:
        return Step("returned", node.next)
    outcome = {_End.CALLER_GONE: "hangup", _End.HANGUP: "completed", _End.ERROR: "error"}[end]
    return Step(outcome, None, end=end)


async def _return(node: ReturnNode, call: _Call, flow: Flow) -> Step:
    return Step("return", None, end=_End.RETURN)


async def _transfer(node: TransferNode, call: _Call, flow: Flow) -> Step:
    text = call.render(node.priority)
    if not re.fullmatch(r"-?\d+", text):
        raise FlowRuntimeError(f"priority {node.priority!r} gave {text!r}, not a whole number")
    if node.speech:
        await call.channel.play(call.media(node.speech))
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


async def _record(node: RecordNode, call: _Call, flow: Flow) -> Step:
    if node.speech:
        await call.channel.play(call.media(node.speech))
    recording = await call.channel.record(
        name=f"{call.call_id}-{node.id}-{call.seq}",
        max_seconds=node.max_seconds,
        beep=node.beep,
        terminator=node.terminator,
    )
    shown = f"{recording.duration:.1f}s"
    if recording.duration < 1.0:
        return Step("empty", node.empty or node.next, shown)
    if node.mailbox is not None:
        await call.services.voicemails.save_voicemail(
            call_id=call.call_id,
            caller=call.channel.caller_id,
            mailbox=call.render(node.mailbox),
            recording=recording,
        )
    return Step("recorded", node.next, shown)


async def _survey(node: SurveyNode, call: _Call, flow: Flow) -> Step:
    answers: list[str] = []
    for question in node.questions:
        digits = Digits(())
        for attempt in range(node.retries + 1):
            if attempt:
                await _retry_prompt(call, digits, node.invalid_speech, node.no_input_speech)
            digits = await call.channel.collect(
                prompt=call.media(question.speech),
                max_digits=1,
                terminator=None,
                first_timeout=node.timeout,
                inter_timeout=node.timeout,
            )
            if digits.text in ("1", "2", "3", "4", "5"):
                await call.services.surveys.save_answer(
                    call_id=call.call_id,
                    survey=node.survey,
                    question=question.id,
                    score=int(digits.text),
                    agent_id=call.variables.get("agent_id") or None,
                )
                call.variables[f"{node.survey}_{question.id}"] = digits.text
                answers.append(f"{question.id}={digits.text}")
                break
    complete = len(answers) == len(node.questions)
    return Step("answered" if complete else "incomplete", node.next, ",".join(answers) or None)


async def _hours(node: HoursNode, call: _Call, flow: Flow) -> Step:
    now = call.services.clock.now()
    shown = f"{local_time(node, now):%Y-%m-%d %H:%M} {node.timezone}"
    if is_open(node, now):
        return Step("open", node.open, shown)
    return Step("closed", node.closed, shown)


async def _hangup(node: HangupNode, call: _Call, flow: Flow) -> Step:
    if node.speech:
        await call.channel.play(call.media(node.speech))
    await call.channel.hangup()
    return Step("completed", None, end=_End.HANGUP)


_Handler = Callable[[Any, _Call, Flow], Awaitable[Step]]
_HANDLERS: dict[type[Node], _Handler] = {
    PlayNode: _play,
    MenuNode: _menu,
    GatherNode: _gather,
    LookupNode: _lookup,
    BranchNode: _branch,
    SetNode: _set,
    SayNode: _say,
    GotoNode: _goto,
    CallNode: _call_flow,
    ReturnNode: _return,
    TransferNode: _transfer,
    RecordNode: _record,
    SurveyNode: _survey,
    HoursNode: _hours,
    HangupNode: _hangup,
}


async def _walk(flow: Flow, call: _Call) -> _End:
    """Run ``flow`` from its start node until it returns, hangs up, fails or the caller goes."""
    saved_language = call.language
    call.language = flow.defaults.language
    try:
        node_id = flow.start
        while True:
            node = flow.nodes.get(node_id)
            if node is None:
                call.error = f"flow {flow.name!r}: no node {node_id!r}"
                return _End.ERROR
            call.steps += 1
            call.seq += 1
            seq = call.seq
            call.last = (flow.name, node.id)
            entered = call.services.clock.now()
            call.services.node_log.entered(
                NodeEntry(call.call_id, seq, flow.name, node.id, node.type_name, entered)
            )
            try:
                if call.steps > MAX_STEPS:
                    raise FlowRuntimeError(
                        f"more than {MAX_STEPS} nodes without ending: a loop without input?"
                    )
                step = await _HANDLERS[type(node)](node, call, flow)
            except CallerHungUp:
                step = Step("hangup", end=_End.CALLER_GONE)
            except (FlowRuntimeError, ChannelError) as exc:
                call.error = f"{node.source}: node '{node.id}': {exc}"
                step = Step("error", end=_End.ERROR)
            call.services.node_log.record(
                NodeEvent(
                    call_id=call.call_id,
                    seq=seq,
                    flow=flow.name,
                    node=node.id,
                    node_type=node.type_name,
                    entered=entered,
                    left=call.services.clock.now(),
                    input=step.input,
                    outcome=step.outcome,
                )
            )
            if step.end is not None:
                return step.end
            if step.next is None:  # pragma: no cover - every handler gives an exit or an end
                raise AssertionError(f"node {node.id!r} gave no exit")
            node_id = step.next
    finally:
        call.language = saved_language


async def run_flow(
    flow: Flow,
    channel: Channel,
    services: FlowServices,
    *,
    call_id: str,
    variables: Mapping[str, str] | None = None,
    answer: bool = True,
) -> FlowResult:
    """Run ``flow`` on ``channel`` until it ends; the channel is hung up unless the caller left.

    On ``EndReason.ERROR`` the channel is left up: its owner apologises to the caller, then hangs up.

    ``variables`` seed the flow (e.g. ``agent_id`` for a post-call survey); ``caller_id``, ``dialled``,
    ``call_id`` and ``parent_flow`` (the calling flow's name inside a sub-flow, else ``""``) are set.
    """
    initial = dict(variables or {})
    initial.update(caller_id=channel.caller_id, dialled=channel.dialled, call_id=call_id, parent_flow="")
    call = _Call(channel=channel, services=services, call_id=call_id, variables=initial)
    try:
        if answer:
            await channel.answer()
        end = await _walk(flow, call)
    except CallerHungUp:
        end = _End.CALLER_GONE
    except ChannelError as exc:
        call.error = f"cannot answer: {exc}"
        end = _End.ERROR
    if end is _End.RETURN:
        with contextlib.suppress(CallerHungUp, ChannelError):
            await channel.hangup()
    reason = {
        _End.RETURN: EndReason.COMPLETED,
        _End.HANGUP: EndReason.COMPLETED,
        _End.CALLER_GONE: EndReason.CALLER_HUNG_UP,
        _End.ERROR: EndReason.ERROR,
    }[end]
    return FlowResult(
        reason=reason,
        flow=call.last[0] or flow.name,
        node=call.last[1],
        steps=call.steps,
        variables=call.masked_variables(),
        error=call.error,
    )
