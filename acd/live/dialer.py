"""Placing booked callbacks: agent first, then the customer, bridged when they answer.

Every tick (a chore of the ``Ticker``) the dialer claims the callbacks that are due (``CallbackBook``: one
node each) and puts each back in line as a waiting call of the ACD, ``model.callback_entry(call_id)``,
with the caller's original enqueue time, queue and priority: the engine's own ordering and offer rules
decide when its turn comes and which agent gets it, across nodes too (only the claiming node holds its
``Waiter``, so only it rings and dials). The offer rings the agent (``AgentLegs``; the agent's phone shows
the customer's number); once the agent answers, the customer is dialled through the outbound trunk
(``CustomerLegs``) and bridged with the agent (``Bridger``) when they answer. Busy, no answer or a failed
dial: the agent's leg is hung up and the agent is ready again at once (nothing to wrap up); the attempt is
recorded and the retry policy (``acd.retry_policy``) puts the callback back in line later or gives it up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Sequence
from typing import Protocol

import acd
from acd.live.api import RuntimeEventKind
from acd.live.bridge import Bridger
from acd.live.customer_legs import CustomerLegs
from acd.live.hub import EventHub
from acd.live.inflight import EpochClock, Leg, Waiter, Waiters
from acd.live.legs import AgentLegs
from acd.live.tasks import TaskSet
from acd.live.worker import EngineWorker
from acd.records.dialing import Attempt, DueCallback
from acd.retry_policy import AttemptResult, NextStep, RetryPolicy
from ivr_engine.channel import CallerHungUp, Channel, ChannelError, Digits, DtmfKey, Media, Recording
from ivr_engine.flow.ports import TransferOutcome, TransferRequest
from ivr_engine.logs import fields
from ivr_engine.numbers import NotDialable, dialable

__all__ = ["CallbackBook", "CallbackDialer", "customer_channel_id"]

log = logging.getLogger(__name__)


class CallbackBook(Protocol):
    """Where callbacks are kept (``acd.records.dialing.SqlCallbackBook``)."""

    async def claim_due(self, now: float, limit: int) -> list[DueCallback]: ...

    async def finish(self, attempt: Attempt, step: NextStep) -> None: ...

    async def release_claims(self) -> int: ...

    async def withdrawn(self, callback_ids: Collection[int]) -> set[int]:
        """Which of ``callback_ids`` were cancelled since they were claimed."""
        ...


def customer_channel_id(callback_id: int, attempt: int) -> str:
    return f"callback-{callback_id}-{attempt}"


class CallbackDialer:
    def __init__(
        self,
        worker: EngineWorker,
        book: CallbackBook,
        *,
        waiters: Waiters,
        legs: AgentLegs,
        customers: CustomerLegs,
        bridger: Bridger,
        hub: EventHub,
        tasks: TaskSet,
        clock: EpochClock,
        policy: RetryPolicy,
        batch: int = 10,
    ) -> None:
        self._worker = worker
        self._book = book
        self._waiters = waiters
        self._legs = legs
        self._customers = customers
        self._bridger = bridger
        self._hub = hub
        self._tasks = tasks
        self._clock = clock
        self._policy = policy
        self._batch = batch
        self._released = False
        self._failing = False
        self._in_line: dict[int, Waiter] = {}  # claimed, waiting in the ACD for an agent

    async def chore(self) -> None:
        """Claim what is due and put it in line (after a restart, first take back this node's claims)."""
        try:
            if not self._released:
                released = await self._book.release_claims()
                self._released = True
                if released:
                    log.info(fields("acd.callback.released", callbacks=released))
            if self._in_line:
                for callback_id in await self._book.withdrawn(list(self._in_line)):
                    self._withdraw(callback_id)
            due = await self._book.claim_due(self._clock(), self._batch)
        except Exception as exc:  # the database is away: the next tick tries again (said once an outage)
            if not self._failing:
                log.warning(fields("acd.callback.claim_failed", error=f"{type(exc).__name__}: {exc}"))
            self._failing = True
            return
        if self._failing:
            log.info(fields("acd.callback.claims_again"))
            self._failing = False
        for callback in due:
            self._tasks.spawn(self._place(callback), f"callback-{callback.id}")

    def _withdraw(self, callback_id: int) -> None:
        """Cancelled while waiting for an agent: out of line, no attempt recorded."""
        waiter = self._in_line.pop(callback_id, None)
        if waiter is not None and not waiter.connected.done():
            log.info(fields("acd.callback.withdrawn", callback=callback_id))
            waiter.connected.set_result(TransferOutcome.FAILED)

    async def _place(self, callback: DueCallback) -> None:
        try:
            dialable(callback.number)
        except NotDialable as exc:  # nobody to call: no agent is rung for it
            log.warning(fields("acd.callback.not_dialable", callback=callback.id, error=str(exc)))
            await self._record(callback, "", self._clock(), AttemptResult.NOT_DIALABLE)
            return
        entry = acd.callback_entry(callback.call_id)
        request = TransferRequest(entry, callback.number, callback.queue, {}, callback.priority, {})
        waiter = Waiter(request, _NoChannel(entry), asyncio.get_running_loop().create_future())
        self._waiters.add(waiter)
        self._in_line[callback.id] = waiter
        result, agent_id, started = AttemptResult.AGENT_GONE, "", self._clock()
        shutdown = withdrawn = False
        try:
            now = self._clock()
            await self._worker.act(lambda engine: engine.enqueue(
                entry, callback.number, callback.queue, now, priority=callback.priority,
                enqueued_at=callback.requested,
            ))
            log.info(fields("acd.callback.in_line", callback=callback.id, queue=callback.queue))
            leg = await waiter.connected
            self._in_line.pop(callback.id, None)
            if not isinstance(leg, Leg):  # cancelled (``_withdraw``)
                withdrawn = True
                return
            agent_id, started = leg.agent_id, self._clock()
            result = await self._dial_and_talk(callback, request, leg)
        except acd.UnknownQueue as exc:  # left acd.yaml: no agent can ever be offered it; given up
            log.warning(fields("acd.callback.no_queue", callback=callback.id, queue=callback.queue,
                               error=str(exc)))
            result = AttemptResult.NO_QUEUE
        except acd.AcdError as exc:
            log.warning(fields("acd.callback.refused", callback=callback.id, error=str(exc)))
        except asyncio.CancelledError:  # the service stops: the claim is taken back at its next start
            shutdown = True
            raise
        finally:
            self._in_line.pop(callback.id, None)
            self._waiters.remove(entry)
            with contextlib.suppress(acd.AcdError):
                end = self._clock()
                await self._worker.act(
                    lambda engine: engine.abandon(entry, end) if engine.store.call(entry) is not None else []
                )
            if not withdrawn and not (shutdown and not agent_id):
                await self._record(callback, agent_id, started, result)

    async def _dial_and_talk(self, callback: DueCallback, request: TransferRequest,
                             leg: Leg) -> AttemptResult:
        channel_id = customer_channel_id(callback.id, callback.attempts + 1)
        dial = asyncio.create_task(self._customers.dial(channel_id, callback.number, callback.call_id))
        agent_gone = asyncio.create_task(leg.gone.wait())
        try:
            await asyncio.wait({dial, agent_gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            agent_gone.cancel()
            if not dial.done():
                dial.cancel()
            await asyncio.gather(dial, agent_gone, return_exceptions=True)
        answered = None if dial.cancelled() or dial.exception() is not None else dial.result()
        if leg.gone.is_set() or not isinstance(answered, Channel):
            await self._customers.release(channel_id)
            await self._legs.hang_up(leg)
            await self._free_agent(leg, ready=True)
            return answered if isinstance(answered, AttemptResult) else AttemptResult.AGENT_GONE
        log.info(fields("acd.callback.connected", callback=callback.id, agent=leg.agent_id))
        talk = Waiter(request, answered, asyncio.get_running_loop().create_future())
        try:
            await self._bridger.talk(talk, leg, self._finish)
        except CallerHungUp:
            pass  # the customer hung up first: the call is over all the same
        finally:
            await self._customers.release(channel_id)
        return AttemptResult.CONNECTED

    async def _finish(self, waiter: Waiter, leg: Leg) -> None:
        """The bridged callback is over: the agent's call ends (wrap-up)."""
        await self._free_agent(leg, ready=False)
        self._hub.emit(RuntimeEventKind.ENDED, self._clock(), leg.agent_id, leg.call_id,
                       waiter.request.caller, waiter.request.queue)

    async def _free_agent(self, leg: Leg, *, ready: bool) -> None:
        """End the agent's call; ``ready``: at once, without wrap-up (the customer never came on)."""
        self._legs.release(leg)
        now = self._clock()

        def end(engine: acd.Acd) -> list[acd.AcdEvent]:
            events = engine.end_call(leg.agent_id, now)
            if ready and engine.agent(leg.agent_id).state is acd.AgentState.WRAP_UP:
                events += engine.ready(leg.agent_id, now)
            return events

        with contextlib.suppress(acd.AcdError):
            await self._worker.act(end)

    async def _record(self, callback: DueCallback, agent_id: str, started: float,
                      result: AttemptResult) -> None:
        ended = self._clock()
        step = self._policy.after(result, callback.attempts, ended)
        log.info(fields("acd.callback.attempt", callback=callback.id, agent=agent_id or "-",
                        result=result.value, next=step.status))
        try:
            await self._book.finish(Attempt(callback.id, agent_id, started, ended, result), step)
        except Exception as exc:  # the claim is taken back at the next start
            log.error(fields("acd.callback.record_failed", callback=callback.id,
                             error=f"{type(exc).__name__}: {exc}"))


class _NoChannel:
    """The callback's stand-in for a caller's channel while it waits in line: nobody is on it yet."""

    def __init__(self, entry: str) -> None:
        self._id = entry

    @property
    def id(self) -> str:
        return self._id

    @property
    def caller_id(self) -> str:
        return ""

    @property
    def dialled(self) -> str:
        return ""

    async def answer(self) -> None:
        raise ChannelError("a callback has no caller's channel")

    async def play(self, media: Sequence[Media], *, barge_in: bool = False) -> DtmfKey | None:
        raise ChannelError("a callback has no caller's channel")

    async def collect(self, *, prompt: Sequence[Media] = (), max_digits: int,
                      terminator: DtmfKey | None = DtmfKey.POUND, first_timeout: float = 5.0,
                      inter_timeout: float = 3.0) -> Digits:
        raise ChannelError("a callback has no caller's channel")

    async def record(self, *, name: str, max_seconds: float, beep: bool = True,
                     terminator: DtmfKey | None = DtmfKey.POUND, max_silence: float = 0.0) -> Recording:
        raise ChannelError("a callback has no caller's channel")

    async def discard(self, recording: Recording) -> None:
        raise ChannelError("a callback has no caller's channel")

    async def hangup(self) -> None:
        return None

