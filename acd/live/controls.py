"""The agent's call controls over ARI (the web desktop's buttons): hold, resume, hang up, blind transfer
and more wrap-up time.

The bridger registers each bridged call here (``connected``) and unregisters it when the conversation
ends (``disconnected``). Only the agent whose leg is in that bridge may act on the call.

- Hold takes the caller out of the bridge and starts music on hold on the caller's channel (the
  ``HoldOptions.music_class`` the queue music uses): the caller hears music, the agent silence, and
  neither hears the other. Resume stops the music and puts the caller back in the bridge. A call that
  ends while held has its music stopped before the flow goes on.
- Hang up ends the caller's channel; the bridger then ends the agent's leg and the agent goes to wrap-up.
- A blind transfer (to a queue, or to a ready agent) is handed to the bridger as a ``Redirect``: it ends
  the agent's leg (wrap-up), and the caller's ``transfer`` re-enters the ACD (``TransferDesk``).
- A consult transfer is ``acd.live.consult``'s: while one is under way (``LiveCall.consult``) hold,
  resume and blind transfer are refused; its completion hands the call to the target's leg
  (``LiveCall.leg`` changes; ``handed_over`` tells the bridger to go on with the target's leg).

Every change of a call's desk state (``desk_state``: held, the consult under way) is published as a
``state_changed`` event for the call's agent (``desk_changed``), so every desk showing that agent
(served by this node or, through ``acd.live.node_bus``, another) updates its buttons. With several nodes,
``desk_state`` also answers for calls other nodes bridge, as their events told it (``remote``).

Refusals are ``ControlRefused`` subclasses whose messages are fit to show the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import acd
from acd.desk_ops import extend_wrap_up
from acd.live.api import RuntimeEventKind
from acd.live.desk_state import DeskState, RemoteDesks
from acd.live.hub import EventHub
from acd.live.inflight import Consult, EpochClock, Leg, Waiter
from acd.live.worker import EngineWorker
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError, AriNotFound
from ivr_engine.logs import fields

__all__ = [
    "CallControls",
    "ConsultDesk",
    "ControlConflict",
    "ControlRefused",
    "LiveCall",
    "NotOnThisCall",
    "Redirect",
    "UnknownTarget",
]

log = logging.getLogger(__name__)


class ControlRefused(acd.AcdError):
    """A call control that cannot be carried out; the message says why."""


class NotOnThisCall(ControlRefused):
    """The agent is not (or no longer) bridged to this call."""


class ControlConflict(ControlRefused):
    """Not possible in the call's or the target's present state (already held, target busy...)."""


class UnknownTarget(ControlRefused):
    """A transfer to a queue or an agent the ACD does not have."""


@dataclass(frozen=True)
class Redirect:
    """A blind transfer asked for by ``by_agent``: to ``queue``, and to ``agent_id`` when one is named."""

    by_agent: str
    queue: str
    agent_id: str | None = None

    def target(self) -> str:
        return f"agent {self.agent_id}" if self.agent_id else f"queue {self.queue}"


@dataclass
class LiveCall:
    """A caller and an agent in their bridge."""

    waiter: Waiter
    leg: Leg
    bridge_id: str
    held: bool = False
    redirect: Redirect | None = None
    redirected: asyncio.Event = field(default_factory=asyncio.Event)
    busy: asyncio.Lock = field(default_factory=asyncio.Lock)
    """One control (or the end of the call) at a time."""
    consult: Consult | None = None
    """The consult under way (``acd.live.inflight.Consult``), if any."""
    handed_over: asyncio.Event = field(default_factory=asyncio.Event)
    """A consult transfer completed: ``leg`` is now the target's; the bridger goes on with it."""


class ConsultDesk(Protocol):
    """What the controls hand consult transfers on to (``acd.live.consult.Consults``)."""

    async def start(self, agent_id: str, call_id: str, target: str) -> Consult: ...

    async def complete(self, agent_id: str, call_id: str, *,
                       handed: Callable[[str], Awaitable[None]] | None = None) -> str: ...

    async def cancel(self, agent_id: str, call_id: str) -> None: ...


class CallControls:
    def __init__(self, worker: EngineWorker, client: AriClient, *, clock: EpochClock,
                 music_class: str = "default", hub: EventHub | None = None) -> None:
        self._worker = worker
        self._client = client
        self._clock = clock
        self._music_class = music_class
        self._hub = hub
        self.remote = RemoteDesks()
        """Several nodes: the desk state of the calls other nodes bridge (``acd.live.node_bus``)."""
        self._calls: dict[str, LiveCall] = {}
        self.end_consult: Callable[[LiveCall], Awaitable[None]] | None = None
        """Set by ``acd.live.consult``: end a call's consult as the call ends (``live.busy`` held)."""
        self.consults: ConsultDesk | None = None
        """Set by ``acd.live.consult.Consults``: the consult transfers the methods below hand on."""

    # -- the bridger's side -----------------------------------------------------------------------

    def connected(self, waiter: Waiter, leg: Leg, bridge_id: str) -> LiveCall:
        live = LiveCall(waiter, leg, bridge_id)
        self._calls[leg.call_id] = live
        return live

    async def disconnected(self, live: LiveCall) -> bool:
        """The conversation is over: no more controls; a held caller's music stops. True when the
        caller was on hold (out of the bridge)."""
        async with live.busy:
            if self._calls.get(live.leg.call_id) is live:
                del self._calls[live.leg.call_id]
            if live.consult is not None and self.end_consult is not None:
                await self.end_consult(live)
            held, live.held = live.held, False
            if held:
                with contextlib.suppress(AriError):
                    await self._client.stop_moh(live.waiter.channel.id)
            return held

    def bridged(self) -> dict[str, tuple[str, str]]:
        """The bridged calls: by call id, the caller's channel and the agent leg's."""
        return {call_id: (live.waiter.channel.id, live.leg.channel_id)
                for call_id, live in self._calls.items()}

    def live_call(self, call_id: str) -> LiveCall | None:
        return self._calls.get(call_id)

    def held(self, call_id: str) -> bool:
        live = self._calls.get(call_id)
        return live is not None and live.held

    def local_desk(self, call_id: str) -> DeskState | None:
        """The desk state of a call this node bridges (None: not one of them)."""
        live = self._calls.get(call_id)
        if live is None:
            return None
        consult = live.consult
        return DeskState(live.held, None if consult is None else consult.target,
                         None if consult is None else consult.state)

    def desk_state(self, call_id: str) -> DeskState | None:
        """The desk state of ``call_id``: bridged here, or by another node as its events told it."""
        local = self.local_desk(call_id)
        return local if local is not None else self.remote.get(call_id)

    def desk_changed(self, live: LiveCall, detail: str) -> None:
        """Tell the desks that ``live``'s desk state changed (``detail`` says how)."""
        if self._hub is not None:
            request = live.waiter.request
            self._hub.emit(RuntimeEventKind.STATE_CHANGED, self._clock(), live.leg.agent_id,
                           request.call_id, request.caller, request.queue, detail)

    # -- the agent's controls ---------------------------------------------------------------------

    def own(self, agent_id: str, call_id: str, *, consulting_ok: bool = True) -> LiveCall:
        """The call ``agent_id`` is bridged to (``NotOnThisCall`` otherwise); ``consulting_ok=False``:
        ``ControlConflict`` while a consult is under way."""
        live = self._calls.get(call_id)
        if live is None or live.leg.agent_id != agent_id or live.redirect is not None:
            raise NotOnThisCall(f"agent {agent_id} is not on call {call_id} (any more)")
        if not consulting_ok and live.consult is not None:
            raise ControlConflict(f"call {call_id} has a consult under way: complete or cancel it first")
        return live

    def consulting(self, call_id: str) -> Consult | None:
        """The consult under way on ``call_id`` (``acd.live.inflight.Consult``), if any."""
        live = self._calls.get(call_id)
        return None if live is None else live.consult

    async def hold(self, agent_id: str, call_id: str) -> None:
        live = self.own(agent_id, call_id, consulting_ok=False)
        async with live.busy:
            self.own(agent_id, call_id, consulting_ok=False)  # still there once the lock is ours
            if live.held:
                raise ControlConflict(f"call {call_id} is already on hold")
            try:
                await self.hold_caller(live)
            except AriError as exc:
                raise self._failed("hold", call_id, exc) from None
            self.desk_changed(live, "call held")
        log.info(fields("acd.call.held", agent=agent_id, call=call_id))

    async def hold_caller(self, live: LiveCall) -> None:
        """Take the caller out of the bridge to music on hold (``live.busy`` held)."""
        caller = live.waiter.channel.id
        await self._client.remove_channel(live.bridge_id, [caller])
        live.held = True
        await self._client.start_moh(caller, self._music_class)

    async def resume_caller(self, live: LiveCall) -> None:
        """Stop the caller's music and put them back in the bridge (``live.busy`` held)."""
        caller = live.waiter.channel.id
        with contextlib.suppress(AriNotFound):
            await self._client.stop_moh(caller)
        await self._client.add_channel(live.bridge_id, [caller])
        live.held = False

    async def resume(self, agent_id: str, call_id: str) -> None:
        live = self.own(agent_id, call_id, consulting_ok=False)
        async with live.busy:
            self.own(agent_id, call_id, consulting_ok=False)
            if not live.held:
                raise ControlConflict(f"call {call_id} is not on hold")
            try:
                await self.resume_caller(live)
            except AriError as exc:
                raise self._failed("resume", call_id, exc) from None
            self.desk_changed(live, "call resumed")
        log.info(fields("acd.call.resumed", agent=agent_id, call=call_id))

    async def hang_up(self, agent_id: str, call_id: str) -> None:
        """End the caller's channel; the bridger ends the agent's leg and the call (wrap-up)."""
        live = self.own(agent_id, call_id)
        try:
            await self._client.hangup(live.waiter.channel.id)
        except AriNotFound:
            pass  # the caller was hanging up anyway
        except AriError as exc:
            raise self._failed("hang up", call_id, exc) from None
        log.info(fields("acd.call.hung_up_by_agent", agent=agent_id, call=call_id))

    async def transfer(self, agent_id: str, call_id: str, *, queue: str | None = None,
                       to_agent: str | None = None) -> Redirect:
        """Blind transfer to ``queue`` or to ``to_agent`` (ready now; in the call's queue)."""
        live = self.own(agent_id, call_id, consulting_ok=False)
        if (queue is None) == (to_agent is None):
            raise ControlRefused("name either a queue or an agent to transfer to")
        if queue is not None:
            if queue not in self._worker.engine.queues:
                raise UnknownTarget(f"no queue {queue!r} in the ACD")
            redirect = Redirect(agent_id, queue)
        else:
            assert to_agent is not None
            target = await self._worker.query(lambda engine: engine.store.agent(to_agent))
            if target is None:
                raise UnknownTarget(f"no agent {to_agent!r} in the ACD")
            if to_agent == agent_id:
                raise ControlConflict("a call cannot be transferred to the agent who has it")
            if target.state is not acd.AgentState.READY:
                raise ControlConflict(f"agent {to_agent} is not ready ({target.state.value})")
            redirect = Redirect(agent_id, live.waiter.request.queue, to_agent)
        async with live.busy:
            self.own(agent_id, call_id, consulting_ok=False)
            live.redirect = redirect
            live.redirected.set()
        log.info(fields("acd.call.transferred", agent=agent_id, call=call_id, to=redirect.target()))
        return redirect

    def _consults(self) -> ConsultDesk:
        if self.consults is None:
            raise ControlRefused("consult transfers are not available here")
        return self.consults

    async def consult(self, agent_id: str, call_id: str, target: str) -> Consult:
        """Start a consult with ``target`` (``acd.live.consult.Consults.start``)."""
        return await self._consults().start(agent_id, call_id, target)

    async def complete_consult(self, agent_id: str, call_id: str, *,
                               handed: Callable[[str], Awaitable[None]] | None = None) -> str:
        return await self._consults().complete(agent_id, call_id, handed=handed)

    async def cancel_consult(self, agent_id: str, call_id: str) -> None:
        await self._consults().cancel(agent_id, call_id)

    async def extend_wrap_up(self, agent_id: str, seconds: float) -> float:
        """More wrap-up time; the seconds now left (``InvalidTransition`` outside wrap-up)."""
        now = self._clock()
        left: list[float] = []

        def extend(engine: acd.Acd) -> list[acd.AcdEvent]:
            left.append(extend_wrap_up(engine, agent_id, seconds, now))
            return []

        await self._worker.act(extend)
        return left[0]

    def failed(self, what: str, call_id: str, exc: AriError) -> ControlConflict:
        return self._failed(what, call_id, exc)

    @staticmethod
    def _failed(what: str, call_id: str, exc: AriError) -> ControlConflict:
        log.warning(fields("acd.call.control_failed", control=what, call=call_id, error=str(exc)))
        return ControlConflict(f"could not {what} call {call_id}: Asterisk refused ({exc})")
