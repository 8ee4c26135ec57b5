"""Bridging a caller and the agent who answered until one of them hangs up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from acd.live.controls import CallControls, LiveCall, Redirect
from acd.live.inflight import HandOver, Leg, Waiter, until_hangup
from acd.live.legs import AgentLegs
from acd.live.recording import CallRecorder, LiveRecording
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError
from ivr_engine.ari.events import ChannelLeftBridge
from ivr_engine.channel import CallerHungUp
from ivr_engine.flow.ports import TransferOutcome
from ivr_engine.logs import fields

__all__ = ["Bridger", "Finish", "bridge_of"]

Finish = Callable[[Waiter, Leg], Awaitable[None]]


def bridge_of(call_id: str) -> str:
    """The id of the mixing bridge of an answered call."""
    return f"acd-{call_id}"

log = logging.getLogger(__name__)

_LEAVE_BRIDGE_SECONDS = 2.0
"""How long the caller's next prompt waits for Asterisk to take the caller out of the destroyed bridge: a
playback requested while the channel is still in it is lost with the bridge (the caller would hear nothing
and the flow would wait for a PlaybackFinished that never comes)."""


class Bridger:
    def __init__(
        self, client: AriClient, legs: AgentLegs, controls: CallControls,
        recorder: CallRecorder | None = None, *, handover: HandOver | None = None,
    ) -> None:
        self._client = client
        self._handover = handover or HandOver()
        self._legs = legs
        self._controls = controls
        self._recorder = recorder
        self._leaving: dict[str, asyncio.Event] = {}  # caller channel -> set once it left the ACD bridge

    async def talk(
        self, waiter: Waiter, leg: Leg, finish: Finish, *, record: bool = False
    ) -> TransferOutcome | Redirect:
        """Bridge caller and agent until one hangs up (the agent: the one a consult transfer handed the
        call to, ``acd.live.consult``, once it did); COMPLETED when the agent hung up first, the
        ``Redirect`` when the agent transferred the call (``acd.live.controls``: the agent's leg is
        ended, the caller is out of the bridge). ``finish`` closes the call in the ACD once the bridge
        is gone and the agent's leg is down. ``record``: the bridge's mix is recorded
        (``acd.live.recording``) and kept once the bridge is gone."""
        return await self._converse(waiter, leg, finish, create=True, record=record)

    async def resume(self, waiter: Waiter, leg: Leg, finish: Finish) -> TransferOutcome | Redirect:
        """Caller and agent already in their bridge (bridged by an earlier run of the service): as
        ``talk``, without creating it; a recording Asterisk still makes of it is kept as ``talk`` would."""
        return await self._converse(waiter, leg, finish, create=False, record=True)

    async def _converse(
        self, waiter: Waiter, leg: Leg, finish: Finish, *, create: bool, record: bool
    ) -> TransferOutcome | Redirect:
        bridge_id = bridge_of(waiter.request.call_id)
        caller_gone = transferred = False
        live = self._controls.connected(waiter, leg, bridge_id)
        recording: LiveRecording | None = None
        try:
            if create:
                async with live.busy:  # a control pressed as the agent answers waits for the bridge
                    await self._client.create_bridge(bridge_id, bridge_type="mixing", name=bridge_id)
                    await self._client.add_channel(bridge_id, [waiter.channel.id, leg.channel_id])
                if record and self._recorder is not None:
                    recording = await self._recorder.start(
                        bridge_id, call_id=waiter.request.call_id, agent_id=leg.agent_id,
                        queue=waiter.request.queue,
                    )
            elif self._recorder is not None:  # a recording the earlier run started goes on: kept too
                recording = await self._recorder.adopt(
                    call_id=waiter.request.call_id, agent_id=leg.agent_id, queue=waiter.request.queue
                )
            # One listener for the whole conversation: cancelling it while the caller's channel has
            # events coming (as at a consult's handover) can lose the cancellation in ``wait_for``.
            listen = asyncio.create_task(until_hangup(waiter.channel), name=f"talk-{bridge_id}")
            try:
                while True:
                    agent_gone = asyncio.create_task(leg.gone.wait(), name=f"agent-{bridge_id}")
                    moved = asyncio.create_task(live.redirected.wait(), name=f"redirect-{bridge_id}")
                    handed = asyncio.create_task(live.handed_over.wait(), name=f"handover-{bridge_id}")
                    waits = (agent_gone, moved, handed)
                    try:
                        await asyncio.wait((listen, *waits), return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for task in waits:
                            task.cancel()
                        await asyncio.gather(*waits, return_exceptions=True)
                    if live.handed_over.is_set():  # a consult transfer: the call goes on with the target
                        live.handed_over.clear()
                        before, leg = leg, live.leg
                        self._handed_over(before)
                        if not listen.done():
                            continue
                    break
            finally:
                listen.cancel()
                await asyncio.gather(listen, return_exceptions=True)
            caller_gone = listen.done() and not listen.cancelled() and not leg.gone.is_set()
            transferred = live.redirect is not None and not caller_gone
        except AriError as exc:
            log.warning(fields("acd.bridge.failed", call=waiter.request.call_id, error=str(exc)))
            caller_gone = True
        finally:
            if not self._handover.keeps(waiter.request.call_id):  # else bridge, legs, recording go on
                await self._hang_up(waiter, leg, live, bridge_id, recording, finish, caller_gone=caller_gone)
        if caller_gone:
            raise CallerHungUp(waiter.channel.id)
        if transferred and live.redirect is not None:
            return live.redirect
        return TransferOutcome.COMPLETED

    async def _hang_up(self, waiter: Waiter, leg: Leg, live: LiveCall, bridge_id: str,
                       recording: LiveRecording | None, finish: Finish, *, caller_gone: bool) -> None:
        """The conversation is over: the bridge goes, the agent's leg is hung up, the call ends."""
        held = await self._controls.disconnected(live)  # a held caller is out of the bridge already
        left_bridge = self._leaving[waiter.channel.id] = asyncio.Event()
        with contextlib.suppress(AriError):
            await self._client.destroy_bridge(bridge_id)
        if recording is not None and self._recorder is not None:
            self._recorder.finish(recording)
        if not caller_gone and not held:  # the next prompt must not reach a channel still in the bridge
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(left_bridge.wait(), _LEAVE_BRIDGE_SECONDS)
        self._leaving.pop(waiter.channel.id, None)
        if not leg.gone.is_set():
            await self._legs.hang_up(leg)
        await finish(waiter, leg)

    @staticmethod
    def _handed_over(before: Leg) -> None:
        """The first agent's leg after a consult transfer (``Consults.complete`` ended it)."""
        log.info(fields("acd.bridge.handed_over", call=before.call_id, agent=before.agent_id))

    def left_bridge(self, event: ChannelLeftBridge) -> None:
        """A caller leaving the ACD bridge releases their next prompt (see ``_LEAVE_BRIDGE_SECONDS``)."""
        if (leaving := self._leaving.get(event.channel.id)) is not None:
            leaving.set()
