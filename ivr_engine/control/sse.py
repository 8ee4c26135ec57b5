"""Server-sent events: the one response loop, with keep-alives, behind the control API's and the pages'
streams."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import Any, TypeVar

from aiohttp import web

__all__ = ["ServerEvent", "stream_events"]

ServerEvent = tuple[str, dict[str, Any]]
"""One server-sent event: its name and JSON data."""

T = TypeVar("T")


async def stream_events(
    request: web.Request,
    items: AsyncIterator[T],
    encode: Callable[[T], ServerEvent],
    *,
    keepalive: float,
    streams: set[asyncio.Task[object]] | None = None,
) -> web.StreamResponse:
    """Stream ``items`` as server-sent events, a comment line as keep-alive after ``keepalive`` seconds of
    quiet, until the client goes away or ``items`` ends; then ``items`` is closed (which unsubscribes).

    While it runs, the handler's task is in ``streams`` (when given), so a shutdown can cancel it.
    """
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    pending: asyncio.Task[T] | None = None
    me = asyncio.current_task() if streams is not None else None
    if streams is not None and me is not None:
        streams.add(me)
    try:
        await response.write(b": connected\n\n")
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(items))
            done, _ = await asyncio.wait({pending}, timeout=keepalive)
            if not done:
                await response.write(b": keep-alive\n\n")
                continue
            item, pending = pending.result(), None
            name, data = encode(item)
            await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
    except (ConnectionResetError, StopAsyncIteration):
        pass  # the client went away, or the stream ended
    finally:
        if streams is not None and me is not None:
            streams.discard(me)
        if pending is not None:
            pending.cancel()
            with suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        aclose: Callable[[], Any] | None = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()
    return response
