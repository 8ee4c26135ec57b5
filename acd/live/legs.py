"""Agent legs: ringing an agent's phone for an offer, the agent answering, no answer, hanging up.

Offers are rung by originating the agent's endpoint with our channel id and app args
``["agent", call_id]`` (``ORIGINATED_MARKER``). The service hands that leg's StasisStart to ``answered``
(the runtime's ``originated_hook``); the event tap hands a leg destroyed before answering to ``ended``.

Several nodes (``shared``): any node's operation may make an offer, but only the node that owns the
caller's channel (the caller waits in its ``transfer``) rings the agent, answers and bridges. An offer
made here for a caller of this node is rung at once; ``follow`` (every tick, and whenever another node
committed a change) rings the offers other nodes made for this node's callers and stops the legs whose
offer another node ended (a ring timeout, an operator's pause). Each offer's leg is rung once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable

import acd
from acd.desk_ops import consulted_call
from acd.live.answered import AnsweredBy
from acd.live.inflight import EpochClock, Leg, Waiters, until_hangup
from acd.live.options import RuntimeOptions
from acd.live.tasks import TaskSet
from acd.live.worker import EngineWorker
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError, AriNotFound
from ivr_engine.ari.events import ChannelDestroyed, ChannelHangupRequest
from ivr_engine.calls import ORIGINATED_MARKER, CallInfo
from ivr_engine.channel import Channel, ChannelError
from ivr_engine.logs import fields

__all__ = ["AgentLegs", "leg_channel_id"]

log = logging.getLogger(__name__)


def leg_channel_id(offer: acd.Offer) -> str:
    """The channel id of the agent leg rung for ``offer``: derived from the offer as stored, so a
    restarted service finds the leg of every offer still open (``acd.live.recovery``)."""
    key = f"{offer.call_id}\0{offer.agent_id}\0{offer.at!r}".encode()
    return f"agent-{hashlib.sha256(key).hexdigest()[:20]}"


class AgentLegs:
    def __init__(
        self,
        worker: EngineWorker,
        client: AriClient,
        *,
        waiters: Waiters,
        answered_by: AnsweredBy,
        tasks: TaskSet,
        clock: EpochClock,
        options: RuntimeOptions,
        shared: bool = False,
    ) -> None:
        self._worker = worker
        self._client = client
        self._waiters = waiters
        self._answered_by = answered_by
        self._tasks = tasks
        self._clock = clock
        self._options = options
        self._legs: dict[str, Leg] = {}
        self._shared = shared
        self._rung: set[str] = set()  # shared: the legs rung for offers still open (or just ended)
        self.consult_answered: Callable[[Channel, Leg], Awaitable[None]] | None = None
        """Set by ``acd.live.consult``: a consult's leg answered (the hook keeps it until it ends)."""

    def should_ring(self, offer: acd.Offer) -> bool:
        """Ring ``offer`` here? One node: always. Several: only for a caller waiting on this node, and
        only once per offer (the first of the operation's event and ``follow`` to see it)."""
        if not self._shared:
            return True
        if self._waiters.get(offer.call_id) is None:
            return False
        leg_id = leg_channel_id(offer)
        if leg_id in self._rung:
            return False
        self._rung.add(leg_id)
        return True

    async def follow(self) -> None:
        """Several nodes: ring the offers made elsewhere for this node's callers; stop ringing the legs
        whose offer was ended elsewhere."""
        if not self._shared:
            return
        mine = frozenset(self._waiters.ids())
        ringing = {leg_id: leg for leg_id, leg in self._legs.items() if not leg.answered}
        rung_before = set(self._rung)
        if not mine and not ringing:
            return

        def read(engine: acd.Acd) -> list[tuple[acd.Offer, acd.Agent]]:
            return [(o, engine.agent(o.agent_id)) for o in engine.store.offers()
                    if o.call_id in mine or leg_channel_id(o) in ringing]

        open_offers = await self._worker.query(read)
        open_legs = {leg_channel_id(offer) for offer, _ in open_offers}
        for offer, agent in open_offers:
            if self.should_ring(offer):
                self._tasks.spawn(self.ring(offer, agent), f"ring-{offer.agent_id}")
        for leg_id, leg in ringing.items():
            if leg_id not in open_legs and not leg.answered and self._legs.pop(leg_id, None) is not None:
                log.info(fields("acd.leg.withdrawn", agent=leg.agent_id, call=leg.call_id))
                self._tasks.spawn(self.hang_up(leg), f"stop-ring-{leg_id}")
        self._rung -= rung_before - open_legs  # offers ended since they were rung: forgotten

    async def ring(self, offer: acd.Offer, agent: acd.Agent, leg: Leg | None = None, *,
                   caller_id: str | None = None) -> None:
        """Originate the agent's endpoint; an unreachable phone is a no-answer at once. ``leg``: the
        leg to ring (a consult's, ``acd.live.consult``; by default a new one), whose ``gone`` is set
        once it ends unanswered."""
        leg = leg or Leg(leg_channel_id(offer), agent.id, offer.call_id)
        self._legs[leg.channel_id] = leg
        ring = round(offer.expires_at - offer.at) + self._options.ring_margin_seconds
        try:
            state = await self._client.endpoint_state(agent.endpoint)
            if state in ("offline", "unavailable"):
                raise ChannelError(f"endpoint {agent.endpoint} is {state}")
            await self._client.originate(
                agent.endpoint, channel_id=leg.channel_id, app_args=[ORIGINATED_MARKER, offer.call_id],
                caller_id=caller_id or self._options.caller_id or self._waiters.caller_of(offer.call_id),
                ring_seconds=ring,
            )
            if leg.channel_id not in self._legs:  # stopped while the originate was under way
                await self.hang_up(leg)
        except (AriError, ChannelError) as exc:
            log.info(fields("acd.agent.unreachable", agent=agent.id, endpoint=agent.endpoint, error=str(exc)))
            if self._legs.pop(leg.channel_id, None) is None:
                return
            await self._no_answer(leg)

    async def answered(self, channel: Channel, call: CallInfo) -> None:
        """An agent answered: take the call, then keep the leg until either side hangs up."""
        leg = self._legs.get(channel.id)
        if leg is not None and self.consult_answered is not None and consulted_call(leg.call_id):
            leg.answered = True
            await self.consult_answered(channel, leg)
            return
        waiter = self._waiters.get(leg.call_id) if leg is not None else None
        if leg is None or waiter is None:
            log.info(fields("acd.leg.stale", channel=channel.id, args=",".join(call.args)))
            return  # the service hangs the leg up
        leg.answered = True
        agent_id, call_id, now = leg.agent_id, leg.call_id, self._clock()

        def answer(engine: acd.Acd) -> list[acd.AcdEvent]:
            offer = engine.store.offer(agent_id)
            if offer is None or offer.call_id != call_id:
                raise acd.NoOffer(agent_id, "not ringing for this call")
            return engine.answer(agent_id, now)

        try:
            await self._worker.act(answer)
        except acd.AcdError as exc:
            log.warning(fields("acd.answer.refused", agent=leg.agent_id, error=str(exc)))
            return
        self._answered_by.remember(leg.call_id, leg.agent_id)
        if not waiter.connected.done():
            waiter.connected.set_result(leg)
        await self.keep(channel, leg)

    async def keep(self, channel: Channel, leg: Leg) -> None:
        """Hold an answered leg's channel until it hangs up or the call is released."""
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
        log.info(fields("acd.leg.unanswered", agent=leg.agent_id, call=leg.call_id, cause=event.cause))
        self._tasks.spawn(self._no_answer(leg), f"no-answer-{leg.agent_id}")

    async def _no_answer(self, leg: Leg) -> None:
        """The leg is down unanswered: a no-answer, if the agent still rings for its call."""
        agent_id, call_id, now = leg.agent_id, leg.call_id, self._clock()

        def reject(engine: acd.Acd) -> list[acd.AcdEvent]:
            offer = engine.store.offer(agent_id)
            if offer is None or offer.call_id != call_id:
                return []
            return engine.reject(agent_id, now, acd.NO_ANSWER)

        try:
            await self._worker.act(reject)
        finally:
            leg.gone.set()

    def on_call(self, agent_id: str) -> Leg | None:
        """The answered leg of ``agent_id``'s call now, if this node holds one."""
        live = (leg for leg in self._legs.values() if leg.answered and not leg.gone.is_set())
        return next((leg for leg in live if leg.agent_id == agent_id), None)

    def channel_ids(self, of_call: Callable[[str], bool] = lambda _: True) -> set[str]:
        """The channel ids of the legs this node holds (ringing or answered) for the calls ``of_call``
        accepts."""
        return {leg.channel_id for leg in self._legs.values() if of_call(leg.call_id)}

    def ringing(self) -> set[str]:
        """The channel ids of the legs rung and not answered yet."""
        return {leg.channel_id for leg in self._legs.values() if not leg.answered}

    def track(self, leg: Leg) -> None:
        """A leg rung by an earlier run of the service (``acd.live.recovery``): its answer, hang-up or
        expiry is handled as if the service had never stopped."""
        self._legs[leg.channel_id] = leg

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
                leg.gone.set()
                self._tasks.spawn(self.hang_up(leg), f"stop-ring-{leg.channel_id}")
