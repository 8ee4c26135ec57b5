"""After a restart: the ACD state the store kept, reconciled with the channels Asterisk still holds.

A service killed (``kill -9``) leaves its callers in Stasis on Asterisk, and the store (``SqlStore``)
keeps the agents, the waiting calls with their places, the offers and who is on a call. At the first
resync of the new run (``AcdRuntime.resynced``, called by the service once it has listed Asterisk's
channels and before it deals with channels no call task owns), ``Recovery.reconcile`` settles what the
store holds against what still exists, and ``Recovery.adopt`` then takes back the channels that are
the ACD's (the service's orphan hook) instead of the service apologising to them and hanging up:

- a waiting call whose caller's channel exists is resumed (``TransferDesk.resume``): hold music again
  and the same place in the queue; one whose channel is gone is abandoned;
- an offer whose caller is gone: abandoned (the agent ready again) and the agent's leg hung up; whose
  leg (``legs.leg_channel_id``) still rings: tracked, so its answer, hang-up or expiry is handled as
  if nothing happened; whose leg is gone: a no-answer (the agent paused "no answer", the call offered
  to the next agent), as when the leg ends unanswered in a running service;
- an agent on a call whose bridge (``bridge.bridge_of``) still holds caller and agent leg: both are
  adopted and the bridge left alone, so the call's end ends the agent's call (wrap-up) as usual;
  otherwise the call is over: the agent's call is ended and a channel left of it hung up.
- a consult under way (``acd.live.consult``) is over: the first agent's leg goes back from the consult
  bridge (found by its channel name: the agent's endpoint) to the call's bridge and the caller off hold
  to them, as above; the target's leg is hung up, the consult bridge removed and the target ready again
  (a target still ringing likewise).

Calls queued by another node (``SqlStore.node`` differs), offers for them and agents on calls another
node answered (``acd_agents.node``) are that node's and left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import acd
from acd.desk_ops import consulted_call, end_consult
from acd.live.bridge import Bridger, bridge_of
from acd.live.consult import consult_bridge_of
from acd.live.controls import Redirect
from acd.live.inflight import EpochClock, Leg, Waiter
from acd.live.legs import AgentLegs, leg_channel_id
from acd.live.transfer import TransferDesk
from acd.live.worker import EngineWorker
from acd.sql_store import SqlStore
from ivr_engine.ari.channel import playback_ids
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError, AriNotFound
from ivr_engine.calls import CallInfo
from ivr_engine.channel import Channel
from ivr_engine.flow.ports import TransferRequest
from ivr_engine.logs import fields

__all__ = ["Recovery"]

log = logging.getLogger(__name__)

_STOP_TRIES = 8
_CONSULT_OVER = "consult ended by a restart"
_STOP_RECHECK_S = 0.05


@dataclass(frozen=True)
class _Stored:
    """What the store held at the first resync (read on the worker thread)."""

    waiting: tuple[acd.WaitingCall, ...]
    offers: tuple[acd.Offer, ...]
    on_call: tuple[acd.Agent, ...]


@dataclass
class _Plan:
    """The channels to adopt, by channel id."""

    waiting: dict[str, acd.WaitingCall] = field(default_factory=dict)
    bridged_callers: dict[str, tuple[acd.Agent, Leg]] = field(default_factory=dict)
    bridged_legs: dict[str, Leg] = field(default_factory=dict)


def _read(engine: acd.Acd, node: str | None) -> _Stored:
    store = engine.store
    waiting = tuple(c for name in sorted(engine.queues) for c in store.waiting(name)
                    if _node_of(store, c.id) == node)
    offers = tuple(o for o in store.offers() if _node_of(store, o.call_id) == node)
    if isinstance(store, SqlStore):
        on_call = tuple(store.agents_on_calls_of(node))
    else:
        on_call = tuple(store.agents_in_state(acd.AgentState.ON_CALL))
    return _Stored(waiting, offers, on_call)


def _node_of(store: acd.AcdStore, call_id: str) -> str | None:
    node_of = getattr(store, "node_of", None)
    return node_of(call_id) if node_of is not None else None


class Recovery:
    def __init__(self, worker: EngineWorker, client: AriClient, *, legs: AgentLegs, desk: TransferDesk,
                 bridger: Bridger, clock: EpochClock, node: str | None) -> None:
        self._worker = worker
        self._client = client
        self._legs = legs
        self._desk = desk
        self._bridger = bridger
        self._clock = clock
        self._node = node
        self._plan = _Plan()
        self.done = False

    async def reconcile(self, existing: Collection[str], bridges: Mapping[str, Sequence[str]]) -> None:
        """Settle the stored state against Asterisk's ``existing`` channels and ``bridges`` (id ->
        channel ids); only the first time (later resyncs find the runtime's own calls in memory)."""
        if self.done:
            return
        self.done = True
        stored = await self._worker.query(lambda engine: _read(engine, self._node))
        offered = {o.call_id for o in stored.offers}
        for offer in stored.offers:
            await self._offer(offer, existing)
        for call in stored.waiting:
            if call.id in offered:
                continue
            if call.id in existing:
                self._plan.waiting[call.id] = call
            else:
                await self._abandon(call.id)
        targets = {consulted_call(a.current_call or ""): a for a in stored.on_call}
        for agent in stored.on_call:
            if consulted_call(agent.current_call or "") is None:
                await self._on_call(agent, bridges, targets.get(agent.current_call or ""))
        for call_id, target in targets.items():
            if call_id is not None:
                await self._end_consult(target.id, call_id, bridges)
        log.info(fields("acd.recovery", waiting=len(self._plan.waiting), offers=len(stored.offers),
                        on_call=len(self._plan.bridged_callers)))

    async def _offer(self, offer: acd.Offer, existing: Collection[str]) -> None:
        leg = Leg(leg_channel_id(offer), offer.agent_id, offer.call_id)
        consulted = consulted_call(offer.call_id)
        if consulted is not None:  # a consult still ringing: over (the first agent has the caller back)
            if leg.channel_id in existing:
                await self._legs.hang_up(leg)
            await self._end_consult(offer.agent_id, consulted, {})
            return
        if offer.call_id not in existing:
            await self._abandon(offer.call_id)
            if leg.channel_id in existing:
                await self._legs.hang_up(leg)
            return
        call = await self._worker.query(lambda engine: engine.store.call(offer.call_id))
        if call is not None:
            self._plan.waiting[call.id] = call
        if leg.channel_id in existing:
            self._legs.track(leg)
            log.info(fields("acd.recovery.ringing", agent=offer.agent_id, call=offer.call_id))
            return
        now = self._clock()
        agent_id, call_id = offer.agent_id, offer.call_id

        def no_answer(engine: acd.Acd) -> list[acd.AcdEvent]:
            current = engine.store.offer(agent_id)
            if current is None or current.call_id != call_id:
                return []
            return engine.reject(agent_id, now, acd.NO_ANSWER)

        await self._worker.act(no_answer)

    async def _on_call(self, agent: acd.Agent, bridges: Mapping[str, Sequence[str]],
                       target: acd.Agent | None) -> None:
        call_id = agent.current_call or ""
        members = bridges.get(bridge_of(call_id), ())
        others = [c for c in members if c != call_id]
        if not others and target is not None:  # talking to a consult's target: back to the caller
            back = await self._from_consult(agent, call_id, bridges)
            if back is not None:
                members, others = [back], [back]
        if members and call_id not in members and len(others) == 1 and await self._off_hold(call_id):
            members = [*others, call_id]
        if call_id in members and len(others) == 1:
            leg = Leg(others[0], agent.id, call_id, answered=True)
            self._plan.bridged_callers[call_id] = (agent, leg)
            self._plan.bridged_legs[leg.channel_id] = leg
            return
        for channel_id in members:  # the call is over: whoever is left of it is hung up
            with contextlib.suppress(AriError):
                await self._client.hangup(channel_id)
        with contextlib.suppress(AriNotFound, AriError):
            await self._client.destroy_bridge(bridge_of(call_id))
        now = self._clock()
        with contextlib.suppress(acd.AcdError):
            await self._worker.act(lambda engine: engine.end_call(agent.id, now))

    async def _from_consult(self, agent: acd.Agent, call_id: str,
                            bridges: Mapping[str, Sequence[str]]) -> str | None:
        """The agent was talking to their consult's target (their leg in the consult bridge, the caller
        on hold): their leg back in the call's bridge; its channel id (None if it is not found)."""
        for channel_id in bridges.get(consult_bridge_of(call_id), ()):
            try:
                name = (await self._client.get_channel(channel_id)).name
                if not name.startswith(f"{agent.endpoint}-"):
                    continue
                with contextlib.suppress(AriError):
                    await self._client.remove_channel(consult_bridge_of(call_id), [channel_id])
                await self._client.add_channel(bridge_of(call_id), [channel_id])
            except AriError:
                return None
            log.info(fields("acd.recovery.consult_left", agent=agent.id, call=call_id))
            return channel_id
        return None

    async def _end_consult(self, target: str, call_id: str, bridges: Mapping[str, Sequence[str]]) -> None:
        """A consult under way when the earlier run stopped is over: the target is free again, what is
        left in the consult bridge (the target's leg) hung up and the bridge removed."""
        for channel_id in bridges.get(consult_bridge_of(call_id), ()):
            if channel_id not in self._plan.bridged_legs:  # not the first agent's, back with the caller
                with contextlib.suppress(AriError):
                    await self._client.hangup(channel_id)
        if consult_bridge_of(call_id) in bridges:
            with contextlib.suppress(AriError):
                await self._client.destroy_bridge(consult_bridge_of(call_id))
        now = self._clock()
        with contextlib.suppress(acd.AcdError):
            await self._worker.act(lambda engine: end_consult(engine, target, call_id, now, _CONSULT_OVER))
        log.info(fields("acd.recovery.consult_ended", target=target, call=call_id))

    async def _off_hold(self, call_id: str) -> bool:
        """A caller the agent had on hold (``acd.live.controls``: out of the bridge, music on hold) when
        the earlier run stopped: back in the bridge with the agent. False if the caller is gone."""
        try:
            with contextlib.suppress(AriNotFound):
                await self._client.stop_moh(call_id)
            await self._client.add_channel(bridge_of(call_id), [call_id])
        except AriError:
            return False
        log.info(fields("acd.recovery.off_hold", call=call_id))
        return True

    async def _abandon(self, call_id: str) -> None:
        now = self._clock()
        await self._worker.act(
            lambda engine: engine.abandon(call_id, now) if engine.store.call(call_id) is not None else []
        )

    def claimed(self) -> set[str]:
        """The channels still to adopt (the service takes them back without waiting)."""
        plan = self._plan
        return {*plan.waiting, *plan.bridged_callers, *plan.bridged_legs}

    async def adopt(self, channel: Channel, call: CallInfo) -> bool:
        """Take back an orphaned channel if it is the ACD's, and serve it to the end (True); False at
        once otherwise (the service then apologises and hangs up)."""
        plan = self._plan
        if (waiting := plan.waiting.pop(channel.id, None)) is not None:
            log.info(fields("acd.recovery.adopted", call=channel.id, queue=waiting.queue))
            await self._stop_playback(channel.id)  # an announcement in flight would hold the music up
            await self._desk.resume(_waiter(waiting, channel))
            return True
        if (bridged := plan.bridged_callers.pop(channel.id, None)) is not None:
            agent, leg = bridged
            self._legs.track(leg)
            request = TransferRequest(channel.id, call.caller, agent.current_queue or "", {}, 0, {})
            waiter = Waiter(request, channel, asyncio.get_running_loop().create_future())
            ended = await self._bridger.resume(waiter, leg, self._desk.finish_call)
            if isinstance(ended, Redirect):  # the agent transferred it
                await self._desk.redirect(waiter, ended)
            return True
        if (kept := plan.bridged_legs.pop(channel.id, None)) is not None:
            await self._legs.keep(channel, kept)
            return True
        return False

    async def _stop_playback(self, channel_id: str) -> None:
        """Stop what a killed service left playing. A stop that lands between two items of a playback's
        media list only ends the current item (Asterisk then plays the next one, holding the music up by
        seconds), so stop again until ARI no longer knows the playback."""
        for playback_id in playback_ids(channel_id):
            for _ in range(_STOP_TRIES):
                try:
                    await self._client.stop_playback(playback_id)
                    await asyncio.sleep(_STOP_RECHECK_S)
                    await self._client.get_playback(playback_id)  # still there: it moved on to its next item
                except AriNotFound:  # nothing (more) plays under that id
                    break
                except AriError as exc:
                    log.warning(fields("acd.recovery.stop_failed", call=channel_id, playback=playback_id,
                                       error=str(exc)))
                    break


def _waiter(call: acd.WaitingCall, channel: Channel) -> Waiter:
    variables = {"vip": "1"} if call.vip else {}
    request = TransferRequest(call.id, call.caller, call.queue, dict(call.skills), call.priority, variables)
    return Waiter(request, channel, asyncio.get_running_loop().create_future(), resumed=True)
