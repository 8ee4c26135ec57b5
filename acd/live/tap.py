"""What drives the ACD besides calls and operators: Asterisk's events (the service's event tap) and the
clock (the tick loop: ring timeouts, wrap-ups, max waits, escalation)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

import acd
from acd.live.bridge import Bridger
from acd.live.customer_legs import CustomerLegs
from acd.live.inflight import EpochClock
from acd.live.legs import AgentLegs
from acd.live.tasks import TaskSet
from acd.live.worker import EngineWorker
from ivr_engine.ari.events import AriEvent, ChannelDestroyed, ChannelHangupRequest, ChannelLeftBridge
from ivr_engine.logs import fields

__all__ = ["AriTap", "Ticker"]

log = logging.getLogger(__name__)


class AriTap:
    def __init__(self, legs: AgentLegs, bridger: Bridger, customers: CustomerLegs) -> None:
        self._legs = legs
        self._bridger = bridger
        self._customers = customers

    def on_event(self, event: AriEvent) -> None:
        """An agent leg that ends before answering is a no-answer, a customer leg busy or no answer; a
        caller leaving the ACD bridge releases their next prompt."""
        if isinstance(event, ChannelLeftBridge):
            self._bridger.left_bridge(event)
        elif isinstance(event, ChannelDestroyed | ChannelHangupRequest):
            self._legs.ended(event)
            self._customers.ended(event)


Chore = Callable[[], Awaitable[None]]


class Ticker:
    """Ticks every ``tick_seconds``, or at once when woken (another node changed the ACD); after each
    engine tick it runs the ``chores`` (several nodes: following offers made elsewhere, the lease).

    While the ACD is quiet (``AcdView.quiet``: nothing waits, rings or wraps up) the engine's tick, which
    would find nothing due, and the view's refresh run only every ``quiet_tick_seconds``, the chores still
    every tick. The view is refreshed by every operation of this node, and another node's change wakes
    the ticker (``acd.live.notify``): a woken tick is always a full one. So the longer interval only
    bounds how late a change this node was not told of (a lost notification) shows while quiet."""

    def __init__(self, worker: EngineWorker, *, clock: EpochClock, tasks: TaskSet,
                 tick_seconds: float, shutdown_timeout: float, chores: Sequence[Chore] = (),
                 quiet_tick_seconds: float | None = None) -> None:
        self._worker = worker
        self._chores = tuple(chores)
        self._woken = asyncio.Event()
        self.started = asyncio.Event()
        """Set once the runtime may tick (``AcdRuntime.start``: after the restart recovery)."""
        self._clock = clock
        self._tasks = tasks
        self._tick_seconds = tick_seconds
        self._quiet_tick_seconds = tick_seconds if quiet_tick_seconds is None else quiet_tick_seconds
        self._shutdown_timeout = shutdown_timeout
        self.engine_ticks = 0
        """Engine ticks so far (tests)."""

    async def run(self) -> None:
        """Tick the ACD until cancelled; then cancel and await the runtime's tasks (bounded)."""
        try:
            await self.started.wait()
            loop = asyncio.get_running_loop()
            woken, full_at = True, loop.time()
            while True:
                try:
                    if woken or not self._worker.view.quiet() or (
                        loop.time() - full_at >= self._quiet_tick_seconds
                    ):
                        full_at = loop.time()
                        await self.tick()
                    else:
                        await self._run_chores()
                except acd.StoreError as exc:  # the database is away: the next tick tries again
                    log.warning(fields("acd.tick.failed", error=str(exc)))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), self._tick_seconds)
                woken = self._woken.is_set()
                self._woken.clear()
        finally:
            await self._tasks.cancel_all(self._shutdown_timeout)

    def wake(self) -> None:
        """Tick now rather than at the end of the interval."""
        self._woken.set()

    async def tick(self) -> None:
        """An engine tick (which refreshes the view), then the chores."""
        now = self._clock()
        self.engine_ticks += 1
        await self._worker.act(lambda engine: engine.tick(now))
        await self._run_chores()

    async def _run_chores(self) -> None:
        for chore in self._chores:
            await chore()
