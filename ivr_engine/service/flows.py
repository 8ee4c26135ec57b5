"""Running a YAML flow as a call's handler: the bridge between the service and the interpreter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from ivr_engine.calls import CallHandler, CallInfo
from ivr_engine.channel import CallerHungUp, Channel
from ivr_engine.flow.interpreter import EndReason, FlowResult, run_flow
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.model import Flow
from ivr_engine.flow.services import FlowServices
from ivr_engine.logs import fields

__all__ = ["FlowCallHandler", "FlowFailed", "flow_handlers"]

log = logging.getLogger(__name__)

FLUSH_TIMEOUT = 5.0


class FlowFailed(Exception):
    """A flow ended on an internal error (the service apologises to the caller and hangs up)."""


@dataclass(frozen=True)
class FlowCallHandler:
    """Runs one flow for a call, then makes sure its node log reaches the database."""

    flow: Flow
    services: FlowServices

    async def __call__(self, channel: Channel, call: CallInfo) -> None:
        result: FlowResult | None = None
        try:
            result = await run_flow(self.flow, channel, self.services, call_id=call.call_id)
        finally:
            # A call that ended as it should is hung up already: its path goes with the node log's next
            # regular batch. After an error the caller waits for the apology, which comes after this.
            urgent = result is None or result.reason is EndReason.ERROR
            try:
                async with asyncio.timeout(FLUSH_TIMEOUT):
                    await self.services.node_log.flush(urgent=urgent)
            except TimeoutError:
                log.warning(fields("call.nodelog.flush_slow", call=call.call_id))
        log.info(fields("call.flow_ended", call=call.call_id, flow=result.flow, node=result.node,
                        reason=result.reason.value, steps=result.steps))
        if result.reason is EndReason.ERROR:
            raise FlowFailed(result.error)
        if result.reason is EndReason.CALLER_HUNG_UP:  # the service records the call as caller_hangup
            raise CallerHungUp(channel.id)


def flow_handlers(
    library: FlowLibrary, numbers: Mapping[str, str], services: FlowServices
) -> dict[str, CallHandler]:
    """A handler per service number whose flow exists; unknown flows are logged, not fatal."""
    handlers: dict[str, CallHandler] = {}
    for number, name in numbers.items():
        flow = library.get(name)
        if flow is None:
            log.error(fields("service.flow_missing", number=number, flow=name))
            continue
        handlers[number] = FlowCallHandler(flow, services)
    return handlers
