"""Which asyncio event loop ``ivr serve`` runs on: uvloop (libuv, the default) or asyncio's own.

uvloop does the same work as asyncio's selector loop (the same API: tasks, timers, sockets, signal
handlers, subprocesses, worker threads) with its loop, transports and callbacks in C, which is most of
the per-event and per-request cost of a service that does little more than move ARI messages. Setting
``event_loop: asyncio`` (``IVR_EVENT_LOOP=asyncio``) runs on asyncio's loop instead; so does a platform
without uvloop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ivr_engine.config import EVENT_LOOPS

__all__ = ["EVENT_LOOPS", "loop_factory", "run"]

T = TypeVar("T")


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The loop factory for setting ``name`` (None: asyncio's own); ValueError for an unknown name."""
    if name not in EVENT_LOOPS:
        raise ValueError(f"event_loop: {name!r} is not one of {', '.join(EVENT_LOOPS)}")
    if name == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # e.g. Windows: uvloop is not built there
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], name: str = "uvloop") -> T:
    """``asyncio.run(main)`` on the loop ``name`` says."""
    with asyncio.Runner(loop_factory=loop_factory(name)) as runner:
        return runner.run(main)
