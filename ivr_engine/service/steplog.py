"""The operator's line per call step: ``call.step`` in the service log for every flow node a call leaves.

``call flow node outcome ms`` (the exit taken and the time spent in the node), never the caller's input:
it may be a PIN. Wraps the service's ``NodeEventSink``; the simulator and tests do not log these.
"""

from __future__ import annotations

import logging

from ivr_engine.flow.ports import NodeEntry, NodeEvent, NodeEventSink
from ivr_engine.logs import fields

__all__ = ["LoggedNodeLog"]

log = logging.getLogger("ivr_engine.service.steps")


class LoggedNodeLog:
    """A ``NodeEventSink`` that logs each node left at INFO and passes every entry and event on."""

    def __init__(self, inner: NodeEventSink) -> None:
        self._inner = inner

    def entered(self, entry: NodeEntry) -> None:
        self._inner.entered(entry)

    def record(self, event: NodeEvent) -> None:
        self._inner.record(event)
        spent = round((event.left - event.entered).total_seconds() * 1000)
        log.info(fields("call.step", call=event.call_id, flow=event.flow, node=event.node,
                        outcome=event.outcome, ms=spent))  # fmt: skip

    async def flush(self, *, urgent: bool = True) -> None:
        await self._inner.flush(urgent=urgent)
