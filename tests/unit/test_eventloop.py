"""``ivr serve``'s event loop: uvloop by default, asyncio's own on request, an unknown name refused."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from ivr_engine import eventloop
from ivr_engine.config import Settings


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_serve_runs_on_uvloop_unless_asked_for_asyncio() -> None:
    assert Settings().event_loop == "uvloop"
    assert eventloop.run(_loop_type()) is uvloop.Loop
    assert not issubclass(eventloop.run(_loop_type(), "asyncio"), uvloop.Loop)


def test_an_unknown_event_loop_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="event_loop: 'tokio'"):
        eventloop.loop_factory("tokio")
