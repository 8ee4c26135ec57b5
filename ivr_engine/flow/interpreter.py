"""The flow interpreter: pure asyncio, talking only to a ``Channel`` and the ports in ``FlowServices``.

``run_flow`` walks nodes from the start node. Each node type's ``run`` (``ivr_engine.flow.nodes``) does its
work through the channel/ports and returns a ``Step`` (the exit taken, the next node, the masked
input). Every node entered is reported to ``node_log.record`` with a per-call sequence number, even
when the caller hangs up in the middle of it (outcome ``hangup``). The interpreter does not flush the
node log: whoever owns the call does that when the call ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ivr_engine.channel import CallerHungUp, Channel, ChannelError
from ivr_engine.flow.errors import FlowRuntimeError
from ivr_engine.flow.model import Flow
from ivr_engine.flow.nodes.call import MAX_CALL_DEPTH
from ivr_engine.flow.ports import NodeEntry, NodeEvent
from ivr_engine.flow.registry import spec_of
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.services import FlowServices
from ivr_engine.flow.steps import MASK, End, Step

__all__ = ["MASK", "MAX_CALL_DEPTH", "MAX_STEPS", "EndReason", "FlowResult", "run_flow"]

MAX_STEPS = 10_000  # a runaway flow (no caller input in a loop) ends with an error after this many nodes


class EndReason(StrEnum):
    COMPLETED = "completed"  # a hangup or top-level return node ended the call
    CALLER_HUNG_UP = "caller_hangup"
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


async def _walk(flow: Flow, call: CallState) -> End:
    """Run ``flow`` from its start node until it returns, hangs up, fails or the caller goes."""
    own_language = flow.defaults.language  # None: the flow speaks the caller's language
    saved_language = call.variables.get("language", "")
    if own_language is not None:
        call.variables["language"] = own_language
    try:
        node_id = flow.start
        while True:
            node = flow.nodes.get(node_id)
            if node is None:
                call.error = f"flow {flow.name!r}: no node {node_id!r}"
                return End.ERROR
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
                step = await spec_of(node).run(node, call, flow)
            except CallerHungUp:
                step = Step("hangup", end=End.CALLER_GONE)
            except (FlowRuntimeError, ChannelError) as exc:
                call.error = f"{node.source}: node '{node.id}': {exc}"
                step = Step("error", end=End.ERROR)
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
        if own_language is not None:
            call.variables["language"] = saved_language


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
    ``call_id``, ``parent_flow`` (the calling flow's name inside a sub-flow, else ``""``) and
    ``language`` (the caller's language, default the service's) are set.
    """
    initial = dict(variables or {})
    initial.update(caller_id=channel.caller_id, dialled=channel.dialled, call_id=call_id, parent_flow="")
    initial.setdefault("language", services.language)
    call = CallState(channel=channel, services=services, call_id=call_id, variables=initial, walk=_walk)
    try:
        if answer:
            await channel.answer()
        end = await _walk(flow, call)
    except CallerHungUp:
        end = End.CALLER_GONE
    except ChannelError as exc:
        call.error = f"cannot answer: {exc}"
        end = End.ERROR
    if end is End.RETURN:
        with contextlib.suppress(CallerHungUp, ChannelError):
            await channel.hangup()
    reason = {
        End.RETURN: EndReason.COMPLETED,
        End.HANGUP: EndReason.COMPLETED,
        End.CALLER_GONE: EndReason.CALLER_HUNG_UP,
        End.ERROR: EndReason.ERROR,
    }[end]
    return FlowResult(
        reason=reason,
        flow=call.last[0] or flow.name,
        node=call.last[1],
        steps=call.steps,
        variables=call.masked_variables(),
        error=call.error,
    )
