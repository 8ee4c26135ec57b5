"""Booking a callback for a caller who pressed the callback key: they keep their place in line."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from acd.live.facts import FactWriter
from acd.live.inflight import EpochClock, Waiter
from acd.live.worker import EngineWorker
from ivr_engine.channel import ChannelError, Media
from ivr_engine.flow.ports import TransferOutcome
from ivr_engine.logs import fields

__all__ = ["CallbackBooking"]

log = logging.getLogger(__name__)


class CallbackBooking:
    def __init__(self, worker: EngineWorker, facts: FactWriter, *, clock: EpochClock,
                 confirmation: Sequence[Media]) -> None:
        self._worker = worker
        self._facts = facts
        self._clock = clock
        self._confirmation = confirmation

    async def book(self, waiter: Waiter) -> TransferOutcome:
        """The request is stamped with the original enqueue time, and callbacks are served in that
        order. The confirmation plays once the request is stored."""
        request = waiter.request
        call = await self._worker.query(lambda engine: engine.store.call(request.call_id))
        enqueued = call.enqueued_at if call is not None else self._clock()
        waiter.callback = True
        if call is not None:
            now = self._clock()
            await self._worker.act(lambda engine: engine.abandon(request.call_id, now))
        await self._facts.callback_requested(request, enqueued)
        try:
            await waiter.channel.play(self._confirmation)
        except ChannelError as exc:  # booked all the same; the flow goes on to its callback exit
            log.warning(fields("acd.callback.confirm_failed", call=request.call_id, error=str(exc)))
        return TransferOutcome.CALLBACK
