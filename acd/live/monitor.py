"""Supervisors listening in on a live agent call: listen, whisper or barge (``ivr agent monitor``).

``start`` rings the supervisor's phone (originated into our app with args ``["agent", "monitor", id]``,
so the service hands its StasisStart to the runtime's originated hook, which hands it to ``answered``):

- ``listen``: a snoop channel on the agent's leg (ARI ``POST /channels/{id}/snoop``, ``spy=both``: what the
  agent hears and says), bridged with the supervisor: the supervisor hears caller and agent, nobody hears
  the supervisor;
- ``whisper``: the same snoop with ``whisper=out`` (spoken into the agent's leg towards the agent's
  phone): the agent hears the supervisor, the caller does not;
- ``barge``: the supervisor joins the caller-agent bridge itself: everyone hears everyone.

The snoop channel enters our app too (args ``["agent", "snoop", id]``) and is held by ``snooped`` until
the session ends. A session ends when the supervisor hangs up (or never answers), the snoop channel
goes or the agent's call ends; the snoop channel, the monitor bridge and the supervisor's channel are
then hung up / destroyed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from acd.live.bridge import bridge_of
from acd.live.inflight import Leg, until_hangup
from acd.live.legs import AgentLegs
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError, AriNotFound
from ivr_engine.calls import ORIGINATED_MARKER, CallInfo
from ivr_engine.channel import Channel
from ivr_engine.logs import fields

__all__ = ["MONITOR_ARG", "SNOOP_ARG", "MonitorError", "MonitorMode", "MonitorSession", "Monitors"]

log = logging.getLogger(__name__)

MONITOR_ARG = "monitor"
"""StasisStart args[1] of a supervisor's phone rung for a session."""
SNOOP_ARG = "snoop"
"""StasisStart args[1] of a session's snoop channel."""
_RING_SECONDS = 30


class MonitorMode(StrEnum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


class MonitorError(Exception):
    """The session cannot start (no such call, Asterisk refused); the message says why."""


@dataclass
class MonitorSession:
    id: str
    agent_id: str
    call_id: str
    supervisor: str
    """The supervisor's endpoint (``PJSIP/1001``)."""
    mode: MonitorMode
    leg: Leg
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def snoop_id(self) -> str:
        return f"snoop-{self.id}"

    @property
    def phone_id(self) -> str:
        return f"sup-{self.id}"

    @property
    def bridge_id(self) -> str:
        return f"mon-{self.id}"

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "agent_id": self.agent_id, "call_id": self.call_id,
                "supervisor": self.supervisor, "mode": self.mode.value}


class Monitors:
    def __init__(self, client: AriClient, legs: AgentLegs) -> None:
        self._client = client
        self._legs = legs
        self._sessions: dict[str, MonitorSession] = {}

    def handles(self, call: CallInfo) -> bool:
        """Is this StasisStart one of ours (a supervisor's phone or a snoop channel)?"""
        args = call.args
        return len(args) >= 3 and args[0] == ORIGINATED_MARKER and args[1] in (MONITOR_ARG, SNOOP_ARG)

    async def start(self, agent_id: str, supervisor: str, mode: MonitorMode) -> MonitorSession:
        """Ring ``supervisor`` to monitor ``agent_id``'s call in ``mode``."""
        leg = self._legs.on_call(agent_id)
        if leg is None:
            raise MonitorError(f"agent {agent_id} is not on a call answered on this node")
        session = MonitorSession(secrets.token_hex(6), agent_id, leg.call_id, supervisor, mode, leg)
        self._sessions[session.id] = session
        try:
            if mode is not MonitorMode.BARGE:
                whisper = "out" if mode is MonitorMode.WHISPER else "none"
                await self._client.snoop(leg.channel_id, snoop_id=session.snoop_id, spy="both",
                                         whisper=whisper, app_args=[ORIGINATED_MARKER, SNOOP_ARG, session.id])
                await self._client.create_bridge(session.bridge_id, bridge_type="mixing",
                                                 name=session.bridge_id)
            await self._client.originate(supervisor, channel_id=session.phone_id,
                                         app_args=[ORIGINATED_MARKER, MONITOR_ARG, session.id],
                                         caller_id=f"monitor {agent_id}", ring_seconds=_RING_SECONDS)
        except AriError as exc:
            await self._end(session)
            raise MonitorError(f"cannot monitor agent {agent_id}: {exc}") from None
        log.info(fields("acd.monitor.started", session=session.id, agent=agent_id, call=leg.call_id,
                        mode=mode.value, supervisor=supervisor))
        return session

    def sessions(self) -> list[MonitorSession]:
        return list(self._sessions.values())

    def channel_gone(self, channel_id: str) -> MonitorSession | None:
        """A channel was destroyed: the session whose supervisor's phone it was (ended, e.g. never
        answered), for the caller to ``end``; else None."""
        return next((s for s in self._sessions.values() if s.phone_id == channel_id), None)

    async def end(self, session: MonitorSession) -> None:
        await self._end(session)

    async def answered(self, channel: Channel, call: CallInfo) -> None:
        """A session's channel entered our app: hold it until the session ends."""
        session = self._sessions.get(call.args[2])
        if session is None:
            return  # the service hangs it up
        if call.args[1] == SNOOP_ARG:
            await self._hold(channel, session)
            await self._end(session)
            return
        try:
            if session.mode is MonitorMode.BARGE:
                await self._client.add_channel(bridge_of(session.call_id), [channel.id])
            else:
                await self._client.add_channel(session.bridge_id, [session.snoop_id, channel.id])
        except AriError as exc:
            log.warning(fields("acd.monitor.failed", session=session.id, error=str(exc)))
            await self._end(session)
            return
        log.info(fields("acd.monitor.connected", session=session.id, mode=session.mode.value))
        await self._hold(channel, session)
        await self._end(session)

    async def _hold(self, channel: Channel, session: MonitorSession) -> None:
        """Until the channel hangs up, the agent's call ends or the session ends."""
        waits = [asyncio.create_task(until_hangup(channel)), asyncio.create_task(session.leg.gone.wait()),
                 asyncio.create_task(session.ended.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    async def _end(self, session: MonitorSession) -> None:
        if self._sessions.pop(session.id, None) is None:
            return
        session.ended.set()
        for channel_id in (session.phone_id, session.snoop_id):
            with contextlib.suppress(AriNotFound, AriError):
                await self._client.hangup(channel_id)
        if session.mode is not MonitorMode.BARGE:
            with contextlib.suppress(AriNotFound, AriError):
                await self._client.destroy_bridge(session.bridge_id)
        log.info(fields("acd.monitor.ended", session=session.id, agent=session.agent_id))
