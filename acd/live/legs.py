"""Agent legs: ringing an agent's phone for an offer, the agent answering, no answer, hanging up.

Offers are rung by originating the agent's endpoint with our channel id and app args
``["agent", call_id]`` (``ORIGINATED_MARKER``). The service hands that leg's StasisStart to ``answered``
(the runtime's ``originated_hook``); the event tap hands a leg destroyed before answering to ``ended``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import acd
from acd.live.answered import AnsweredBy
from acd.live.inflight import Apply, EpochClock, Leg, Waiters, until_hangup
from acd.live.options import RuntimeOptions
from acd.live.tasks import TaskSet
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError, AriNotFound
from ivr_engine.ari.events import ChannelDestroyed, ChannelHangupRequest
from ivr_engine.calls import ORIGINATED_MARKER, CallInfo
from ivr_engine.channel import Channel, ChannelError
from ivr_engine.logs import fields

__all__ = ["AgentLegs"]

log = logging.getLogger(__name__)


class AgentLegs:
    def __init__(
        self,
        engine: acd.Acd,
        client: AriClient,
        *,
        waiters: Waiters,
        answered_by: AnsweredBy,
        tasks: TaskSet,
        apply: Apply,
        clock: EpochClock,
        options: RuntimeOptions,
    ) -> None:
        self._acd = engine
        self._client = client
        self._waiters = waiters
        self._answered_by = answered_by
        self._tasks = tasks
        self._apply = apply
        self._clock = clock
        self._options = options
        self._legs: dict[str, Leg] = {}

    async def ring(self, offer: acd.Offer) -> None:
        """Originate the agent's endpoint; an unreachable phone is a no-answer at once."""
        agent = self._acd.agent(offer.agent_id)
        leg = Leg(f"agent-{uuid.uuid4().hex[:16]}", agent.id, offer.call_id)
        self._legs[leg.channel_id] = leg
        ring = round(offer.expires_at - offer.at) + self._options.ring_margin_seconds
        try:
            state = await self._client.endpoint_state(agent.endpoint)
            if state in ("offline", "unavailable"):
                raise ChannelError(f"endpoint {agent.endpoint} is {state}")
            await self._client.originate(
                agent.endpoint, channel_id=leg.channel_id, app_args=[ORIGINATED_MARKER, offer.call_id],
                caller_id=self._options.caller_id or self._waiters.caller_of(offer.call_id),
                ring_seconds=ring,
            )
        except (AriError, ChannelError) as exc:
            log.info(fields("acd.agent.unreachable", agent=agent.id, endpoint=agent.endpoint, error=str(exc)))
            if self._legs.pop(leg.channel_id, None) is None:
                return
            current = self._acd.store.offer(agent.id)
            if current is not None and current.call_id == offer.call_id:
                self._apply(self._acd.reject(agent.id, self._clock(), acd.NO_ANSWER))

    async def answered(self, channel: Channel, call: CallInfo) -> None:
        """An agent answered: take the call, then keep the leg until either side hangs up."""
        leg = self._legs.get(channel.id)
        waiter = self._waiters.get(leg.call_id) if leg is not None else None
        offer = self._acd.store.offer(leg.agent_id) if leg is not None else None
        if leg is None or waiter is None or offer is None or offer.call_id != leg.call_id:
            log.info(fields("acd.leg.stale", channel=channel.id, args=",".join(call.args)))
            return  # the service hangs the leg up
        leg.answered = True
        try:
            self._apply(self._acd.answer(leg.agent_id, self._clock()))
        except acd.AcdError as exc:
            log.warning(fields("acd.answer.refused", agent=leg.agent_id, error=str(exc)))
            return
        self._answered_by.remember(leg.call_id, leg.agent_id)
        waiter.connected.set_result(leg)
        listen = asyncio.create_task(until_hangup(channel), name=f"leg-{channel.id}")
        released = asyncio.create_task(leg.released.wait(), name=f"released-{channel.id}")
        try:
            await asyncio.wait({listen, released}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            leg.gone.set()
            for task in (listen, released):
                task.cancel()
            await asyncio.gather(listen, released, return_exceptions=True)

    def ended(self, event: ChannelDestroyed | ChannelHangupRequest) -> None:
        """A leg that ends before answering is a no-answer."""
        leg = self._legs.get(event.channel.id)
        if leg is None or leg.answered:
            return
        self._legs.pop(leg.channel_id, None)
        offer = self._acd.store.offer(leg.agent_id)
        if offer is None or offer.call_id != leg.call_id:
            return
        log.info(fields("acd.leg.unanswered", agent=leg.agent_id, call=leg.call_id, cause=event.cause))
        self._apply(self._acd.reject(leg.agent_id, self._clock(), acd.NO_ANSWER))

    def release(self, leg: Leg) -> None:
        """The call is over: the leg's hook may return, and the leg is forgotten."""
        leg.released.set()
        self._legs.pop(leg.channel_id, None)

    async def hang_up(self, leg: Leg) -> None:
        with contextlib.suppress(AriNotFound):
            try:
                await self._client.hangup(leg.channel_id)
            except AriError as exc:
                log.warning(fields("acd.leg.hangup_failed", channel=leg.channel_id, error=str(exc)))

    def stop_ringing(self, offer: acd.Offer) -> None:
        for leg in list(self._legs.values()):
            if leg.agent_id == offer.agent_id and leg.call_id == offer.call_id and not leg.answered:
                self._legs.pop(leg.channel_id, None)
                self._tasks.spawn(self.hang_up(leg), f"stop-ring-{leg.channel_id}")
