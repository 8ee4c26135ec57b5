"""How ``ivr flows test --live`` orders the calls of one clock (``lab.live_schedule``), with fake calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from ivr_engine.lab.errors import LabError
from ivr_engine.lab.live_plan import AgentNeed
from ivr_engine.lab.live_schedule import Slots, play_clock_group

A, N, R, P = AgentNeed.ANY, AgentNeed.NONE, AgentNeed.READY, AgentNeed.PAUSED


@dataclass
class Recorder:
    """Fake calls: each takes a few loop turns; notes who ran alongside whom, and the agents' state."""

    agents_state: AgentNeed = AgentNeed.NONE
    running: list[tuple[int, AgentNeed]] = field(default_factory=list)
    most: int = 0
    seen: list[tuple[int, AgentNeed, AgentNeed, tuple[AgentNeed, ...]]] = field(default_factory=list)
    fail_setup: AgentNeed | None = None
    blocks: list[AgentNeed] = field(default_factory=list)

    async def play(self, item: tuple[int, AgentNeed]) -> str:
        self.running.append(item)
        self.most = max(self.most, len(self.running))
        for _ in range(5):
            await asyncio.sleep(0.002)
            self.seen.append((item[0], item[1], self.agents_state, tuple(n for _, n in self.running)))
        self.running.remove(item)
        return f"played {item[0]}"

    def agents(self, need: AgentNeed) -> AbstractAsyncContextManager[int]:
        @asynccontextmanager
        async def logged_in() -> AsyncIterator[int]:
            if need is self.fail_setup:
                raise LabError("phone never came online")
            self.blocks.append(need)
            self.agents_state = need
            await asyncio.sleep(0.005)
            try:
                yield 2
            finally:
                self.agents_state = AgentNeed.NONE

        return logged_in()


def run(items: list[tuple[int, AgentNeed]], recorder: Recorder, concurrency: int = 3) -> list[str]:
    return asyncio.run(play_clock_group(
        items, lambda item: item[1], recorder.play, recorder.agents, 2, concurrency,
        lambda item, why: f"broken {item[0]}: {why}",
    ))  # fmt: skip


ITEMS = [(0, A), (1, N), (2, R), (3, P), (4, A), (5, R), (6, R), (7, A), (8, N), (9, P), (10, A)]


def test_every_case_is_played_once_and_results_keep_their_order() -> None:
    assert run(ITEMS, Recorder()) == [f"played {i}" for i in range(len(ITEMS))]


def test_at_most_concurrency_calls_and_at_most_one_per_ready_agent() -> None:
    recorder = Recorder()
    run(ITEMS, recorder)
    assert recorder.most == 3
    assert max(running.count(R) for *_, running in recorder.seen) == 2


def test_blocks_run_one_after_the_other_in_the_agents_state_they_need() -> None:
    recorder = Recorder()
    run(ITEMS, recorder)
    assert recorder.blocks == [R, P]
    for _, need, state, running in recorder.seen:
        lane = {n for n in running if n is not A}
        assert len(lane) <= 1, running  # never two agent states at once
        if need is not A:
            assert state is (N if need is N else need)


def test_cases_without_a_transfer_fill_the_calls_a_block_leaves_free() -> None:
    recorder = Recorder()
    run(ITEMS, recorder)
    assert any(A in running and R in running for *_, running in recorder.seen)


def test_a_failed_agent_set_up_breaks_its_block_only() -> None:
    recorder = Recorder(fail_setup=R)
    results = run(ITEMS, recorder)
    for index in (2, 5, 6):  # the ready block
        assert results[index] == f"broken {index}: the lab's agents: phone never came online"
    assert [results[i] for i in (0, 1, 3, 9)] == ["played 0", "played 1", "played 3", "played 9"]
    assert recorder.blocks == [P]


def test_an_urgent_take_goes_before_waiting_ones() -> None:
    async def scenario() -> list[str]:
        slots = Slots(2)
        order: list[str] = []
        await slots.take(2)

        async def taker(name: str, count: int, urgent: bool) -> None:
            await slots.take(count, urgent=urgent)
            order.append(name)

        waiting = [asyncio.create_task(taker("filler", 1, False)),
                   asyncio.create_task(taker("lane", 2, True))]  # fmt: skip
        await asyncio.sleep(0)
        slots.release(1)  # one free: the lane needs two, and the filler may not jump ahead of it
        await asyncio.sleep(0.01)
        assert order == []
        slots.release(1)
        await asyncio.sleep(0.01)
        assert order == ["lane"]
        slots.release(2)
        await asyncio.gather(*waiting)
        return order

    assert asyncio.run(scenario()) == ["lane", "filler"]
