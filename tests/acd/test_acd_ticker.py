"""The live ACD's tick loop: while nothing waits, rings or wraps up, the engine's tick and the view's
refresh run only every ``quiet_tick_seconds`` (the chores every tick); a woken tick, and every tick
while a call waits, is a full one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest

import acd
from acd.live.tap import Ticker
from acd.live.tasks import TaskSet
from acd.live.worker import AcdView, EngineWorker

from .small_centre import QUEUES, start_agents

NOW = 1000.0


class Running:
    def __init__(self, quiet_tick_seconds: float) -> None:
        self.worker = EngineWorker(acd.Acd(QUEUES, agents=start_agents()), lambda applied: None, lambda: NOW)
        self.chores = 0
        self.ticker = Ticker(self.worker, clock=lambda: NOW, tasks=TaskSet(), tick_seconds=0.01,
                             shutdown_timeout=1.0, chores=[self._chore],
                             quiet_tick_seconds=quiet_tick_seconds)  # fmt: skip

    async def _chore(self) -> None:
        self.chores += 1

    async def until(self, condition: Callable[[], bool], seconds: float = 5.0) -> None:
        async with asyncio.timeout(seconds):
            while not condition():  # noqa: ASYNC110 - polling counters the ticker owns
                await asyncio.sleep(0.005)


@pytest.fixture
async def running() -> AsyncIterator[Callable[[float], Running]]:
    started: list[tuple[Running, asyncio.Task[None]]] = []

    def start(quiet_tick_seconds: float) -> Running:
        run = Running(quiet_tick_seconds)
        run.ticker.started.set()
        started.append((run, asyncio.create_task(run.ticker.run())))
        return run

    yield start
    for run, task in started:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        run.worker.close()


async def test_a_quiet_acd_ticks_the_engine_every_quiet_interval_and_the_chores_every_tick(
    running: Callable[[float], Running],
) -> None:
    run = running(2.0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await run.until(lambda: run.ticker.engine_ticks == 1)  # the first tick is a full one
    await run.until(lambda: run.chores >= 10)
    assert run.ticker.engine_ticks == 1
    assert run.worker.view.quiet()
    await run.until(lambda: run.ticker.engine_ticks == 2)
    assert loop.time() - began >= 2.0


async def test_a_woken_tick_is_a_full_one(running: Callable[[float], Running]) -> None:
    run = running(60.0)
    await run.until(lambda: run.ticker.engine_ticks == 1)
    run.ticker.wake()
    await run.until(lambda: run.ticker.engine_ticks == 2)


async def test_while_a_call_waits_every_tick_is_a_full_one(running: Callable[[float], Running]) -> None:
    run = running(60.0)
    await run.until(lambda: run.ticker.engine_ticks == 1)
    await run.worker.act(lambda engine: engine.enqueue("c1", "5550001", "orders", NOW))
    assert not run.worker.view.quiet()  # the operation refreshed the view: the call waits
    ticks = run.ticker.engine_ticks
    await run.until(lambda: run.ticker.engine_ticks >= ticks + 5)


@pytest.mark.parametrize(
    ("state", "quiet"),
    [(acd.AgentState.READY, True), (acd.AgentState.PAUSED, True), (acd.AgentState.ON_CALL, True),
     (acd.AgentState.RINGING, False), (acd.AgentState.WRAP_UP, False)],
)  # fmt: skip
def test_an_agent_ringing_or_in_wrap_up_makes_the_acd_busy(state: acd.AgentState, quiet: bool) -> None:
    agent = replace(start_agents()[0], state=state)
    assert AcdView(agents=(agent,)).quiet() is quiet
