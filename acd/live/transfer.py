"""The caller's side of a queued call (the flows' ``Transferrer``).

``transfer`` runs in the caller's call task: it queues the call, has the hold player play to the caller
while listening for the callback key and the hangup, and once an agent answers has the bridger connect
the two legs and wait for either side to hang up. An agent's blind transfer (``acd.live.controls``) ends
the bridge with a ``Redirect``: the caller re-enters the ACD in the target queue, or rings the target
agent first (``acd.desk_ops.offer_to_agent``; a target no longer ready means the queue), and waits again
as before, in the same ``transfer``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from typing import Any

import acd
from acd.desk_ops import offer_to_agent
from acd.live.api import RuntimeEventKind
from acd.live.bridge import Bridger
from acd.live.callbacks import CallbackBooking
from acd.live.controls import Redirect
from acd.live.facts import FactWriter, QueueOutcome
from acd.live.hold_player import HoldPlayer
from acd.live.hub import EventHub
from acd.live.inflight import EpochClock, HandOver, Leg, Waiter, Waiters
from acd.live.legs import AgentLegs
from acd.live.worker import EngineWorker
from acd.model import requirements_at
from ivr_engine.channel import CallerHungUp, Channel
from ivr_engine.flow.ports import TransferOutcome, TransferRequest
from ivr_engine.logs import fields

__all__ = ["TransferDesk"]

log = logging.getLogger(__name__)

_LOGGED_IN_ELSEWHERE = (
    acd.PassReason.PAUSED, acd.PassReason.RINGING, acd.PassReason.BUSY, acd.PassReason.WRAP_UP
)
"""Pass reasons of agents who hold the skills and are logged in, just not free right now."""


class TransferDesk:
    def __init__(
        self,
        worker: EngineWorker,
        *,
        waiters: Waiters,
        legs: AgentLegs,
        hold: HoldPlayer,
        bridger: Bridger,
        callbacks: CallbackBooking,
        facts: FactWriter,
        hub: EventHub,
        clock: EpochClock,
        handover: HandOver | None = None,
    ) -> None:
        self._worker = worker
        self._handover = handover or HandOver()
        self._acd = worker.engine  # the queue configuration only: no store access on the loop
        self._waiters = waiters
        self._legs = legs
        self._hold = hold
        self._bridger = bridger
        self._callbacks = callbacks
        self._facts = facts
        self._hub = hub
        self._clock = clock

    async def transfer(self, channel: Channel, request: TransferRequest) -> TransferOutcome:
        """Queue the caller until an agent answers (COMPLETED once the agent hangs up), max wait
        (OVERFLOW), the callback key (CALLBACK) or nobody logged in (NO_AGENTS). A caller hangup
        raises ``CallerHungUp`` as every channel operation does."""
        try:
            queue = self._acd.queue(request.queue)
        except acd.UnknownQueue as exc:
            log.error(fields("acd.transfer.failed", call=request.call_id, error=str(exc)))
            return TransferOutcome.FAILED
        now = self._clock()
        waiter = Waiter(request, channel, asyncio.get_running_loop().create_future())
        try:
            if not await self._worker.query(lambda engine: _staffed(engine, queue, request)):
                self._facts.enqueued(request, now, None)
                self._facts.ended(request.call_id, QueueOutcome.NO_AGENTS, now)
                return TransferOutcome.NO_AGENTS
            self._waiters.add(waiter)
            await self._worker.act(lambda engine: engine.enqueue(
                request.call_id, request.caller, queue.name, now, priority=request.priority,
                vip=request.variables.get("vip") == "1", skills=dict(request.skills) or None,
            ))
        except acd.StoreError as exc:  # the ACD's database is out of reach: the flow's failure exit
            self._waiters.remove(request.call_id)
            log.error(fields("acd.transfer.failed", call=request.call_id, error=str(exc)))
            return TransferOutcome.FAILED
        try:
            return await self._serve(waiter, queue)
        finally:
            await self._leave(waiter)

    async def resume(self, waiter: Waiter) -> TransferOutcome:
        """A caller the store has waiting from an earlier run of the service (``acd.live.recovery``):
        hold again and wait in the same place, as ``transfer`` would have."""
        self._waiters.add(waiter)
        try:
            call_id = waiter.request.call_id
            if await self._worker.query(lambda engine: engine.store.call(call_id)) is None:
                return TransferOutcome.OVERFLOW  # the first tick overflowed it before it was taken back
            return await self._serve(waiter, self._acd.queue(waiter.request.queue))
        finally:
            await self._leave(waiter)

    async def _serve(self, waiter: Waiter, queue: acd.Queue) -> TransferOutcome:
        while True:
            result = await self._wait_for_agent(waiter, queue)
            if isinstance(result, TransferOutcome):
                return result
            ended = await self._bridger.talk(waiter, result, self.finish_call, record=queue.record)
            if not isinstance(ended, Redirect):
                return ended
            requeued = await self._requeue(waiter, ended)
            if requeued is None:
                return TransferOutcome.FAILED
            queue = requeued

    async def redirect(self, waiter: Waiter, redirect: Redirect) -> TransferOutcome:
        """A call bridged by an earlier run of the service was transferred (``acd.live.recovery``)."""
        self._waiters.add(waiter)
        try:
            queue = await self._requeue(waiter, redirect)
            return TransferOutcome.FAILED if queue is None else await self._serve(waiter, queue)
        finally:
            await self._leave(waiter)

    async def _requeue(self, waiter: Waiter, redirect: Redirect) -> acd.Queue | None:
        """Put a transferred caller back in the ACD: ``redirect.queue``, ringing ``redirect.agent_id``
        first when one is named and still ready. None if the ACD refused (its database out of reach):
        the flow's failure exit, as for a first transfer."""
        queue = self._acd.queue(redirect.queue)
        same_queue = queue.name == waiter.request.queue
        request = waiter.request = replace(waiter.request, queue=queue.name)
        waiter.connected = asyncio.get_running_loop().create_future()
        now = self._clock()
        why = f"transferred by agent {redirect.by_agent}"
        vip = request.variables.get("vip") == "1"
        skills = dict(request.skills) if request.skills and same_queue else None  # else the queue's

        def enqueue(engine: acd.Acd) -> list[acd.AcdEvent]:
            if redirect.agent_id is not None:
                with contextlib.suppress(acd.InvalidTransition):
                    return offer_to_agent(engine, request.call_id, request.caller, queue.name,
                                          redirect.agent_id, now, priority=request.priority, vip=vip, why=why)
            return engine.enqueue(request.call_id, request.caller, queue.name, now,
                                  priority=request.priority, vip=vip, skills=skills)

        self._waiters.add(waiter)
        try:
            await self._worker.act(enqueue)
        except acd.AcdError as exc:
            log.error(fields("acd.transfer.requeue_failed", call=request.call_id, error=str(exc)))
            return None
        log.info(fields("acd.transfer.requeued", call=request.call_id, to=redirect.target()))
        return queue

    async def _leave(self, waiter: Waiter) -> None:
        """The caller leaves ``transfer``: still queued (hung up, cancelled) means abandoned; not when
        the service stops handing its calls over (``HandOver``): the next run adopts the caller."""
        call_id = waiter.request.call_id
        self._waiters.remove(call_id)
        if self._handover.keeps(call_id):
            return
        now = self._clock()
        try:
            await self._worker.act(
                lambda engine: engine.abandon(call_id, now) if engine.store.call(call_id) is not None else []
            )
        except acd.StoreError as exc:
            log.error(fields("acd.abandon.failed", call=call_id, error=str(exc)))

    async def _wait_for_agent(self, waiter: Waiter, queue: acd.Queue) -> Leg | TransferOutcome:
        hold = asyncio.create_task(self._hold.play(waiter, queue), name=f"hold-{waiter.request.call_id}")
        try:
            either: list[asyncio.Future[Any]] = [hold, waiter.connected]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not hold.done():
                hold.cancel()
            await asyncio.gather(hold, return_exceptions=True)
        if waiter.connected.done():
            result = waiter.connected.result()
            caller_gone = not hold.cancelled() and isinstance(hold.exception(), CallerHungUp)
            if isinstance(result, Leg) and caller_gone:
                await self._legs.hang_up(result)
                await self.finish_call(waiter, result)
                raise CallerHungUp(waiter.channel.id)
            return result
        error = hold.exception()
        if error is not None:
            raise error  # CallerHungUp: the finally of transfer() records the abandon
        return await self._callbacks.book(waiter)

    async def finish_call(self, waiter: Waiter, leg: Leg) -> None:
        """The bridged call is over: the agent's call ends (wrap-up). The call's id is the waiter's: after
        a consult transfer the leg is the consult's (its call id ``<call>.consult``)."""
        now, call_id = self._clock(), waiter.request.call_id
        self._legs.release(leg)
        with contextlib.suppress(acd.AcdError):
            await self._worker.act(lambda engine: engine.end_call(leg.agent_id, now))
        self._facts.ended(call_id, QueueOutcome.ANSWERED, now)
        self._hub.emit(RuntimeEventKind.ENDED, now, leg.agent_id, call_id, waiter.request.caller,
                       waiter.request.queue)



def _staffed(engine: acd.Acd, queue: acd.Queue, request: TransferRequest) -> bool:
    """Is anyone logged in who could ever take this call (after every escalation step)? Read from the
    store's indexed pool counts (on the worker thread): skills are judged before state, so an agent
    counted as paused, ringing, busy or in wrap-up holds the skills."""
    needed = requirements_at(dict(request.skills) or queue.skills, queue.escalation, float("inf"))
    counts = engine.store.pool_counts(needed)
    return counts.eligible > 0 or any(counts.passed.get(reason, 0) for reason in _LOGGED_IN_ELSEWHERE)
