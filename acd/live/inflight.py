"""What the runtime holds about calls in flight: the callers waiting inside ``transfer`` and the agent
legs rung for them, plus the clock every part shares."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ivr_engine.channel import CallerHungUp, Channel, ChannelError
from ivr_engine.flow.ports import TransferOutcome, TransferRequest

__all__ = ["Consult", "EpochClock", "HandOver", "Leg", "Waiter", "Waiters", "until_hangup", "utc"]

EpochClock = Callable[[], float]
"""The service's clock in epoch seconds: the ACD's times."""

_LISTEN_SECONDS = 3600.0


@dataclass
class HandOver:
    """The calls (ids) the service leaves to the next run as it stops (SIGTERM, ``AcdRuntime.hand_over``):
    cancelled, they skip what ends a call (the abandon, stopping the music, destroying the bridge,
    hanging up the agent's leg, the agent's wrap-up), so the store and Asterisk are left as a ``kill -9``
    leaves them, and the next run adopts them (``acd.live.recovery``)."""

    calls: frozenset[str] = frozenset()

    def keeps(self, call_id: str) -> bool:
        return call_id in self.calls


def utc(seconds: float) -> datetime:
    """An ACD time (epoch seconds) as the aware UTC datetime events and facts carry."""
    return datetime.fromtimestamp(seconds, UTC)


@dataclass
class Leg:
    """An agent's phone rung for one offer."""

    channel_id: str
    agent_id: str
    call_id: str
    answered: bool = False
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Waiter:
    """A caller inside ``transfer``; ``connected`` resolves with the answering leg or an overflow."""

    request: TransferRequest
    channel: Channel
    connected: asyncio.Future[Leg | TransferOutcome]
    callback: bool = False
    resumed: bool = False
    """Taken back after a restart of the service (``acd.live.recovery``): it was on hold already."""


class Waiters:
    """The callers inside ``transfer``, by call id."""

    def __init__(self) -> None:
        self._by_call: dict[str, Waiter] = {}

    def add(self, waiter: Waiter) -> None:
        self._by_call[waiter.request.call_id] = waiter

    def remove(self, call_id: str) -> None:
        self._by_call.pop(call_id, None)

    def get(self, call_id: str) -> Waiter | None:
        return self._by_call.get(call_id)

    def ids(self) -> list[str]:
        return list(self._by_call)

    def caller_of(self, call_id: str) -> str:
        waiter = self._by_call.get(call_id)
        return waiter.request.caller if waiter is not None else ""


async def until_hangup(channel: Channel) -> None:
    """Consume the channel's events (keys are ignored) until it hangs up."""
    with contextlib.suppress(CallerHungUp, ChannelError):
        while True:
            await channel.collect(max_digits=1, terminator=None, first_timeout=_LISTEN_SECONDS)


@dataclass
class Consult:
    """A consult transfer under way on a bridged call (``acd.live.consult``): the first agent talks to
    ``target`` while the caller is on hold."""

    by_agent: str
    target: str
    leg: Leg
    bridge_id: str
    answered: bool = False
    watch: asyncio.Task[None] | None = None
    """Waits for the target's leg to end on its own (not a ``TaskSet`` task: ``drain`` is not held
    up by a consult under way); cancelled once the consult ends otherwise."""

    def stop_watching(self) -> None:
        if self.watch is not None and self.watch is not asyncio.current_task():
            self.watch.cancel()

    @property
    def state(self) -> str:
        return "talking" if self.answered else "ringing"
