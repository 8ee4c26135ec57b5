"""In which order, and how many at once, ``ivr flows test --live`` plays the cases of one clock.

A case whose call reaches a transfer needs the lab's agents in one state (``AgentNeed``: none logged in,
ready, paused), so those cases run in blocks, one state after the other (the lane). Cases that reach no
transfer (``AgentNeed.ANY``) do not care, and fill the calls the lane leaves free: at most
``concurrency`` calls run at once in all. The lane has priority: it reserves its calls for a block
(as many as it has cases, at most ``concurrency``; with ready agents at most one per agent) and,
while it waits for them, no further filler starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from ivr_engine.lab.errors import LabError
from ivr_engine.lab.live_plan import AgentNeed

__all__ = ["LANE", "Slots", "play_clock_group"]

T = TypeVar("T")
R = TypeVar("R")
LANE = (AgentNeed.NONE, AgentNeed.READY, AgentNeed.PAUSED)


class Slots:
    """``size`` calls at once; an urgent ``take`` goes before every other waiting one."""

    def __init__(self, size: int) -> None:
        self.free = size
        self._urgent = 0
        self._changed = asyncio.Event()

    async def take(self, count: int = 1, *, urgent: bool = False) -> None:
        if urgent:
            self._urgent += 1
        try:
            while not (self.free >= count and (urgent or self._urgent == 0)):
                self._changed.clear()
                await self._changed.wait()
        finally:
            if urgent:
                self._urgent -= 1
        self.free -= count

    def release(self, count: int = 1) -> None:
        self.free += count
        self._changed.set()


async def play_clock_group(
    items: Sequence[T],
    need_of: Callable[[T], AgentNeed],
    play: Callable[[T], Awaitable[R]],
    agents: Callable[[AgentNeed], AbstractAsyncContextManager[int]],
    agent_count: int,
    concurrency: int,
    broken: Callable[[T, str], R],
) -> list[R]:
    """Play ``items`` (see the module doc); ``agents(need)`` sets the lab's agents up for a block and
    yields how many; ``agent_count`` is how many it will log in. When that fails (LabError), the block's
    cases not played yet are ``broken(item, why)``. Results in the order of ``items``."""
    slots = Slots(concurrency)
    results: dict[int, R] = {}

    async def block(need: AgentNeed, cases: Sequence[tuple[int, T]], width: int) -> None:
        gate = asyncio.Semaphore(width)

        async def one(index: int, item: T) -> None:
            async with gate:
                results[index] = await play(item)

        await asyncio.gather(*(one(index, item) for index, item in cases))

    async def lane() -> None:
        held = 0
        try:
            for need in LANE:
                cases = [(i, item) for i, item in enumerate(items) if need_of(item) is need]
                if not cases:
                    continue
                most = agent_count if need is AgentNeed.READY else concurrency
                width = max(1, min(concurrency, len(cases), most))
                slots.release(held)  # and at once take the block's share again, before any filler
                held = 0
                await slots.take(width, urgent=True)
                held = width
                if need is AgentNeed.NONE:
                    await block(need, cases, width)
                    continue
                try:
                    async with agents(need):
                        await block(need, cases, width)
                except LabError as exc:
                    for index, item in cases:
                        results.setdefault(index, broken(item, f"the lab's agents: {exc}"))
        finally:
            slots.release(held)

    async def filler(index: int, item: T) -> None:
        await slots.take()
        try:
            results[index] = await play(item)
        finally:
            slots.release()

    fillers = [filler(i, item) for i, item in enumerate(items) if need_of(item) is AgentNeed.ANY]
    await asyncio.gather(lane(), *fillers)
    return [results[index] for index in range(len(items))]
