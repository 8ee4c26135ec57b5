"""The one thread every engine call of the live runtime runs on, and the view operators read.

``acd.Acd`` and its store are synchronous, and over ``SqlStore`` every store call waits for the database,
so the runtime never calls the engine on the event loop: ``act`` and ``query`` hand a function of the
engine to a single-thread executor owned by the worker. One thread runs the jobs one at a time in the
order they were handed in, so the ACD sees the runtime's operations in the order the runtime made them.

``act`` is for operations that return ACD events. The events of an operation are applied on the loop
(``apply``) as soon as it finishes, in the order the operations finished, even when the coroutine that
asked for it is cancelled meanwhile (a caller hanging up): an offer the store made is always rung. Each
``act`` also refreshes ``AcdView``, the agents and queues as they stand after it, which the operators'
synchronous reads (control API, wallboard, ``/metrics``) return without touching the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TypeVar

import acd
from acd.live.inflight import EpochClock

__all__ = ["AcdView", "Applied", "EngineWorker"]

T = TypeVar("T")


@dataclass(frozen=True)
class Applied:
    """The events of one operation and, for every agent they changed, the agent as it stands after it."""

    events: list[acd.AcdEvent]
    agents: dict[str, acd.Agent] = field(default_factory=dict)


@dataclass(frozen=True)
class AcdView:
    """Agents and queues as they stood after the latest operation (or tick)."""

    agents: tuple[acd.Agent, ...] = ()
    statuses: tuple[acd.QueueStatus, ...] = ()

    def queue_statuses(self, now: float) -> list[acd.QueueStatus]:
        """The statuses with the longest wait as of ``now``."""
        return [replace(s, longest_wait=max((now - c.enqueued_at for c in s.waiting), default=0.0))
                for s in self.statuses]

    def waiting_calls(self) -> list[acd.WaitingCall]:
        return [c for s in self.statuses for c in s.waiting]

    def quiet(self) -> bool:
        """No call waits, no agent rings or wraps up: an engine tick finds nothing due (offers expiring,
        max waits, escalation and the heads' routing need a waiting call or an offer; a wrap-up's end an
        agent in wrap-up), whatever the time."""
        return not any(s.waiting for s in self.statuses) and not any(
            a.state in _TIMED_STATES for a in self.agents
        )


_TIMED_STATES = frozenset({acd.AgentState.RINGING, acd.AgentState.WRAP_UP})


def read_view(engine: acd.Acd, now: float) -> AcdView:
    """Runs on the worker thread, in one store transaction: a queue's status alone is one, and over
    SQLite each begins with ``BEGIN IMMEDIATE`` (half of an idle tick's CPU was the view's)."""
    with engine.store.transaction():
        statuses = tuple(engine.queue_status(name, now) for name in sorted(engine.queues))
        return AcdView(tuple(engine.store.agents()), statuses)


class EngineWorker:
    """Runs engine jobs on one thread; ``apply`` gets each operation's ``Applied`` on the loop."""

    def __init__(self, engine: acd.Acd, apply: Callable[[Applied], None], clock: EpochClock) -> None:
        self.engine = engine
        self._apply = apply
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="acd-engine")
        self.view = AcdView()

    async def query(self, job: Callable[[acd.Acd], T]) -> T:
        """``job(engine)`` on the worker thread; its result."""
        return await asyncio.wrap_future(self._executor.submit(job, self.engine))

    async def act(self, operation: Callable[[acd.Acd], list[acd.AcdEvent]]) -> list[acd.AcdEvent]:
        """Run an engine operation on the worker thread; its events are applied on the loop once it is
        done (even if the awaiting coroutine is cancelled). Raises what the operation raised."""
        future = asyncio.wrap_future(self._executor.submit(self._operate, operation))
        future.add_done_callback(self._done)
        applied = await asyncio.shield(future)
        return applied.events

    async def refresh(self) -> None:
        """Refresh the view (at start, before any operation)."""
        self.view = await self.query(lambda engine: read_view(engine, self._clock()))

    def _operate(self, operation: Callable[[acd.Acd], list[acd.AcdEvent]]) -> Applied:
        engine = self.engine
        events = operation(engine)
        changed = {e.agent_id for e in events if isinstance(e, acd.StateChange)}
        agents = {agent_id: engine.agent(agent_id) for agent_id in sorted(changed)}
        self.view = read_view(engine, self._clock())
        return Applied(events, agents)

    def _done(self, future: asyncio.Future[Applied]) -> None:
        if future.cancelled() or future.exception() is not None:
            return  # the awaiting coroutine gets the exception (the operation changed nothing)
        self._apply(future.result())

    def close(self) -> None:
        """Wait for the jobs handed in so far, then stop the thread."""
        self._executor.shutdown(wait=True)
