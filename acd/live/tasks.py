"""The runtime's own background tasks (originates, stored facts, stopped rings): tracked, so tests can
wait for them and shutdown can cancel them; a failure is logged, never lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine

from ivr_engine.logs import fields

__all__ = ["TaskSet"]

log = logging.getLogger(__name__)


class TaskSet:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[object, object, object], name: str) -> None:
        """A tracked task: awaited by ``drain``, cancelled by ``cancel_all``, failures logged."""
        task: asyncio.Task[None] = asyncio.create_task(_discard(coro), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._reap)

    async def drain(self) -> None:
        """Wait until no task is left (tasks spawned meanwhile included)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def cancel_all(self, bound_seconds: float) -> None:
        """Cancel every task and wait for them, at most ``bound_seconds``."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=bound_seconds)

    def _reap(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(fields("acd.task_failed", task=task.get_name(), error=repr(task.exception())))


async def _discard(coro: Coroutine[object, object, object]) -> None:
    await coro
