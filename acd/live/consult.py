"""Consult transfer from the desk: the agent talks to a ready agent (the target) first, then hands the
call over (complete) or takes the caller back (cancel).

- ``start``: the ACD rings the target with a consult offer (``acd.desk_ops.offer_consult``: the target
  is ringing, then on the consult, so no queue offers them anything; the store refuses a second offer
  to them or for the same consult). The caller goes to music on hold (as ``CallControls.hold``) and the
  target's phone is originated as an offer's leg (``AgentLegs.ring``, the first agent as caller id).
- The target answers: the first agent's leg leaves the caller's bridge for a consult bridge
  (``consult-<call>``) with the target's leg: the two agents talk, the caller hears music.
- ``complete`` (the target answered): the target takes the call over in the ACD
  (``complete_consult``: the first agent goes to wrap-up), the consult bridge goes, the target's leg
  and the caller (music stopped) join the caller's bridge, the first agent's leg is hung up and the
  bridger goes on with the target's (``LiveCall.handed_over``). The target's desktop gets the
  screen-pop (an ``answered`` event, after the caller's ``handed`` hook: the desk's node-path step).
- ``cancel``, or the target not answering (the ACD's ring timeout: paused "no answer", as any
  offer), rejecting or hanging up: the target's leg ends, the target is ready again
  (``end_consult``), the first agent goes back to the caller's bridge and the caller off hold.
- The call ending meanwhile (the caller or the first agent hangs up) ends the consult the same way
  (``CallControls.disconnected``): the target is ready, the first agent wraps up as after any call.

A consult does not survive a restart of the service: recovery knows only queued, ringing and bridged
calls (a ringing consult's leg is hung up and its offer expires at the tick: the target paused "no
answer"; an answered one leaves the target and the first agent on calls without an ACD bridge, which
recovery ends: wrap-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import acd
from acd.desk_ops import (
    answer_consult,
    complete_consult,
    consult_id,
    consulted_call,
    end_consult,
    offer_consult,
)
from acd.live.answered import AnsweredBy
from acd.live.api import RuntimeEventKind
from acd.live.controls import CallControls, ControlConflict, LiveCall, UnknownTarget
from acd.live.hub import EventHub
from acd.live.inflight import Consult, EpochClock, Leg
from acd.live.legs import AgentLegs, leg_channel_id
from acd.live.tasks import TaskSet
from acd.live.worker import EngineWorker
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError, AriNotFound
from ivr_engine.channel import Channel
from ivr_engine.logs import fields

__all__ = ["Consults", "consult_bridge_of"]

log = logging.getLogger(__name__)


def consult_bridge_of(call_id: str) -> str:
    """The id of the bridge where the first agent and the target of ``call_id``'s consult talk."""
    return f"consult-{call_id}"


class Consults:
    def __init__(self, controls: CallControls, worker: EngineWorker, client: AriClient, legs: AgentLegs, *,
                 hub: EventHub, answered_by: AnsweredBy, tasks: TaskSet, clock: EpochClock) -> None:
        self._controls = controls
        self._worker = worker
        self._client = client
        self._legs = legs
        self._hub = hub
        self._answered_by = answered_by
        self._tasks = tasks
        self._clock = clock
        legs.consult_answered = self._answered
        controls.end_consult = self._call_ended
        controls.consults = self

    async def start(self, agent_id: str, call_id: str, target: str) -> Consult:
        """Ring ``target`` (ready now) for a consult on ``agent_id``'s call; the caller goes on hold."""
        live = self._controls.own(agent_id, call_id)
        found = await self._worker.query(lambda engine: engine.store.agent(target))
        if found is None:
            raise UnknownTarget(f"no agent {target!r} in the ACD")
        if target == agent_id:
            raise ControlConflict("an agent cannot consult themselves")
        async with live.busy:
            self._controls.own(agent_id, call_id)
            if live.consult is not None:
                raise ControlConflict(f"call {call_id} has a consult under way already")
            now, queue = self._clock(), live.waiter.request.queue
            try:
                events = await self._worker.act(
                    lambda engine: offer_consult(engine, call_id, queue, target, agent_id, now))
            except acd.InvalidTransition:
                raise ControlConflict(f"agent {target} is not ready") from None
            except acd.AcdError as exc:
                raise ControlConflict(f"the ACD refused the consult: {exc}") from None
            offer = next(e.offer for e in events if isinstance(e, acd.OfferMade))
            leg = Leg(leg_channel_id(offer), target, consult_id(call_id))
            consult = Consult(agent_id, target, leg, consult_bridge_of(call_id))
            try:
                if not live.held:
                    await self._controls.hold_caller(live)
            except AriError as exc:
                await self._end_in_acd(consult, "consult failed")
                raise self._controls.failed("consult on", call_id, exc) from None
            live.consult = consult
            agent = await self._worker.query(lambda engine: engine.store.agent(target))
            assert agent is not None
            ring = self._legs.ring(offer, agent, leg, caller_id=agent_id)
            self._tasks.spawn(ring, f"ring-consult-{target}")
            consult.watch = asyncio.create_task(self._watch(live, consult), name=f"consult-{call_id}")
            self._controls.desk_changed(live, f"consult: ringing agent {target}")
        log.info(fields("acd.consult.started", agent=agent_id, call=call_id, target=target))
        return consult

    async def complete(self, agent_id: str, call_id: str, *,
                       handed: Callable[[str], Awaitable[None]] | None = None) -> str:
        """Hand the call to the consult's target (who answered); the agent id it now belongs to.
        ``handed(target)`` runs once the call is theirs and before their screen-pop is announced (the
        desk writes its node-path step there, so the pop shows it)."""
        live = self._controls.own(agent_id, call_id)
        async with live.busy:
            self._controls.own(agent_id, call_id)
            consult = live.consult
            if consult is None:
                raise ControlConflict(f"call {call_id} has no consult under way")
            if not consult.answered:
                raise ControlConflict(f"agent {consult.target} has not answered the consult yet")
            now = self._clock()
            try:
                await self._worker.act(
                    lambda engine: complete_consult(engine, agent_id, consult.target, call_id, now))
            except acd.AcdError as exc:
                raise ControlConflict(f"the ACD refused the handover: {exc}") from None
            live.consult = None
            consult.stop_watching()
            try:
                await self._leave_consult_bridge(consult, consult.leg)
                await self._client.add_channel(live.bridge_id, [consult.leg.channel_id])
                await self._controls.resume_caller(live)
            except AriError as exc:  # the ACD has handed over; the caller may be left on music
                log.warning(fields("acd.consult.bridge_failed", call=call_id, error=str(exc)))
            before, live.leg = live.leg, consult.leg
            live.handed_over.set()  # the bridger goes on with the target's leg
            self._legs.release(before)
            await self._legs.hang_up(before)
            await self._destroy_bridge(consult)
            self._answered_by.remember(call_id, consult.target)
            if handed is not None:
                await handed(consult.target)
            request = live.waiter.request
            self._hub.emit(RuntimeEventKind.ANSWERED, now, consult.target, call_id, request.caller,
                           request.queue, f"consult transfer from agent {agent_id}")
        log.info(fields("acd.consult.completed", agent=agent_id, call=call_id, target=consult.target))
        return consult.target

    async def cancel(self, agent_id: str, call_id: str) -> None:
        """End the consult: the target's leg ends, the caller is back with the agent."""
        live = self._controls.own(agent_id, call_id)
        async with live.busy:
            self._controls.own(agent_id, call_id)
            consult = live.consult
            if consult is None:
                raise ControlConflict(f"call {call_id} has no consult under way")
            await self._back_to_caller(live, consult, "consult cancelled")
        log.info(fields("acd.consult.cancelled", agent=agent_id, call=call_id, target=consult.target))

    # -- the legs' and the bridger's side ---------------------------------------------------------

    async def _answered(self, channel: Channel, leg: Leg) -> None:
        """The target picked up: the two agents in the consult bridge; keep the leg until it ends."""
        call_id = consulted_call(leg.call_id) or ""
        live = self._controls.live_call(call_id)
        consult = None if live is None else live.consult
        if live is None or consult is None or consult.leg is not leg:
            log.info(fields("acd.consult.stale", channel=channel.id, call=call_id))
            self._legs.release(leg)
            return
        async with live.busy:
            if live.consult is not consult:
                self._legs.release(leg)
                return
            now = self._clock()
            try:
                await self._worker.act(lambda engine: answer_consult(engine, consult.target, call_id, now))
                bridge = consult.bridge_id
                await self._client.create_bridge(bridge, bridge_type="mixing", name=bridge)
                await self._client.remove_channel(live.bridge_id, [live.leg.channel_id])
                await self._client.add_channel(consult.bridge_id, [live.leg.channel_id, leg.channel_id])
                consult.answered = True
            except (acd.AcdError, AriError) as exc:
                log.warning(fields("acd.consult.answer_failed", call=call_id, error=str(exc)))
                self._legs.release(leg)
                leg.gone.set()  # the watcher takes the caller back
                return
            self._hub.emit(RuntimeEventKind.STATE_CHANGED, now, consult.by_agent, call_id,
                           live.waiter.request.caller, live.waiter.request.queue,
                           f"consult: agent {consult.target} answered")
        log.info(fields("acd.consult.answered", call=call_id, target=consult.target))
        await self._legs.keep(channel, leg)

    async def _watch(self, live: LiveCall, consult: Consult) -> None:
        """The target's leg ended on its own (no answer, rejected, hung up): back to the caller."""
        await consult.leg.gone.wait()
        async with live.busy:
            if live.consult is consult:
                await self._back_to_caller(live, consult, "consult ended by the target")
                log.info(fields("acd.consult.ended", call=live.waiter.request.call_id, target=consult.target))

    async def _call_ended(self, live: LiveCall) -> None:
        """The call ends during its consult (``live.busy`` held)."""
        consult, live.consult = live.consult, None
        if consult is not None:
            await self._drop(consult, "call ended during the consult")

    async def _back_to_caller(self, live: LiveCall, consult: Consult, reason: str) -> None:
        """The agent's leg goes back to the caller first, then the consult is dropped."""
        live.consult = None
        consult.stop_watching()
        try:
            if consult.answered:
                await self._leave_consult_bridge(consult, live.leg)
                await self._client.add_channel(live.bridge_id, [live.leg.channel_id])
            await self._controls.resume_caller(live)
        except AriError as exc:
            log.warning(fields("acd.consult.return_failed", call=live.waiter.request.call_id, error=str(exc)))
        self._controls.desk_changed(live, reason)
        await self._drop(consult, reason)

    async def _drop(self, consult: Consult, reason: str) -> None:
        """Free the target in the ACD, end their leg, remove the consult bridge."""
        consult.stop_watching()
        await self._end_in_acd(consult, reason)
        self._legs.release(consult.leg)
        await self._legs.hang_up(consult.leg)
        if consult.answered:
            await self._destroy_bridge(consult)

    async def _leave_consult_bridge(self, consult: Consult, leg: Leg) -> None:
        """Take ``leg`` out of the consult bridge before it joins another. Asterisk 16 moves a leg added
        straight to another bridge without unsubscribing the app from the one it left, and then keeps
        that bridge (destroyed, emptied) listed and in memory until the leg ends."""
        with contextlib.suppress(AriError):  # not there any more: the add below moves it or fails
            await self._client.remove_channel(consult.bridge_id, [leg.channel_id])

    async def _destroy_bridge(self, consult: Consult) -> None:
        try:
            await self._client.destroy_bridge(consult.bridge_id)
        except AriNotFound:
            pass
        except AriError as exc:
            log.warning(fields("acd.consult.bridge_left", bridge=consult.bridge_id, error=str(exc)))

    async def _end_in_acd(self, consult: Consult, reason: str) -> None:
        call_id, now = consulted_call(consult.leg.call_id) or "", self._clock()
        try:
            await self._worker.act(lambda engine: end_consult(engine, consult.target, call_id, now, reason))
        except acd.AcdError as exc:
            log.warning(fields("acd.consult.end_failed", call=call_id, error=str(exc)))
