"""Server-sent event feeds for the pages: the agent's own events and the wallboard's snapshots.

The agent feed merges three sources into one stream: the ACD's runtime events about this agent (each
followed by the agent's fresh state, see :func:`agent_json`), the agent's screen-pops (with readable
call references, :mod:`ivr_engine.web.call_ref`), and, after each of their calls ends, the
caller's survey result (looked up in the database every ``survey_poll_s`` until ``survey_wait_s``; the
survey flow writes no event of its own). The wallboard feed sends a full snapshot on connect, after ACD
events (half a second after the first of a burst) and every ``refresh_s`` so today's figures stay current.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import suppress
from typing import Any

from aiohttp import web

from acd.desk_ops import consulted_call
from acd.live.api import RuntimeEventKind
from acd.model import AgentState
from ivr_engine.control.app import CLOCK_KEY, CONTROL_KEY, SCREENPOPS_KEY, event_json
from ivr_engine.control.sse import ServerEvent, stream_events
from ivr_engine.control.views import AgentView
from ivr_engine.web.agent_actions import offered_actions, offered_call_controls
from ivr_engine.web.call_ref import pop_json
from ivr_engine.web.context import CALLS_KEY, WEB_KEY
from ivr_engine.web.desk import survey_result
from ivr_engine.web.wallboard import build_wallboard

__all__ = ["Item", "agent_feed", "agent_json", "end_streams", "send_events", "wallboard_feed"]

Item = ServerEvent
"""One server-sent event: its name and JSON data."""

WALLBOARD_MIN_GAP_S = 0.5


def agent_json(request: web.Request, agent_id: str) -> dict[str, Any]:
    """The agent's view, plus what the desk needs: ``actions`` (the state buttons to enable),
    ``call_controls`` (the call buttons, ``ivr_engine.web.call_controls``) with ``held`` (their call is
    on hold), ``consult`` (the consult transfer they started: target and state; both also for a call
    another node bridges, as that node's events told them: ``acd.live.node_bus``) and, in wrap-up,
    ``wrap_up_left`` (seconds until the ACD makes them ready again; else None)."""
    now = request.app[CLOCK_KEY]()
    calls = request.app.get(CALLS_KEY)
    for agent in request.app[CONTROL_KEY].agents():
        if agent.id == agent_id:
            data = AgentView.from_agent(agent, now).to_json()
            data["actions"] = [a.value for a in offered_actions(agent.state)]
            call = agent.current_call
            desk = calls.desk_state(call) if calls is not None and call is not None else None
            held = desk is not None and desk.held
            consult = None if desk is None else desk.consult_state
            consulted = call is not None and consulted_call(call) is not None
            controls = offered_call_controls(agent.state, held=held, consulted=consulted,
                                             consult=consult) if calls is not None else ()
            data["call_controls"] = [c.value for c in controls]
            data["held"] = held
            data["consult"] = None if desk is None or consult is None else {
                "target": desk.consult_target, "state": consult}
            until = agent.wrap_up_until if agent.state is AgentState.WRAP_UP else None
            data["wrap_up_left"] = None if until is None else round(max(0.0, until - now), 3)
            return data
    return {"id": agent_id, "state": "unknown", "actions": [], "call_controls": [], "held": False,
            "consult": None, "wrap_up_left": None}


async def agent_feed(request: web.Request, agent_id: str) -> AsyncIterator[Item]:
    control, pops, ctx = request.app[CONTROL_KEY], request.app[SCREENPOPS_KEY], request.app[WEB_KEY]
    out: asyncio.Queue[Item] = asyncio.Queue()
    tasks: set[asyncio.Task[None]] = set()

    def spawn(work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def runtime_events() -> None:
        async for event in control.subscribe():
            if event.agent_id != agent_id:
                continue
            await out.put((event.kind.value, event_json(event)))
            await out.put(("agent", agent_json(request, agent_id)))
            if event.kind is RuntimeEventKind.ENDED and event.call_id:
                spawn(watch_survey(event.call_id))

    async def screenpops() -> None:
        async for pop in pops.stream(agent_id):
            await out.put(("screenpop", pop_json(pop, ctx.centre)))

    async def watch_survey(call_id: str) -> None:
        loop = asyncio.get_running_loop()
        deadline, seen = loop.time() + ctx.survey_wait_s, 0
        while loop.time() < deadline:
            result = await survey_result(ctx.database, call_id)
            if result is not None and len(result.answers) > seen:
                seen = len(result.answers)
                await out.put(("survey", result.to_json()))
            await asyncio.sleep(ctx.survey_poll_s)

    spawn(runtime_events())
    spawn(screenpops())
    await asyncio.sleep(0)  # both run up to their first wait: subscribed before the page hears a thing
    try:
        yield "agent", agent_json(request, agent_id)
        latest = pops.latest(agent_id)
        if latest is not None:
            yield "screenpop", pop_json(latest, ctx.centre)
        while True:
            yield await out.get()
    finally:
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def wallboard_feed(request: web.Request) -> AsyncIterator[Item]:
    control, ctx, clock = request.app[CONTROL_KEY], request.app[WEB_KEY], request.app[CLOCK_KEY]
    changed = asyncio.Event()

    async def watch() -> None:
        async for _ in control.subscribe():
            changed.set()

    watcher = asyncio.create_task(watch())
    try:
        while True:
            board = await build_wallboard(control, ctx.database, clock=clock, flow=ctx.main_flow,
                                          sla_s=ctx.sla_s, centre=ctx.centre,
                                          bands=ctx.bands)
            yield "wallboard", board.to_json()
            with suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), ctx.refresh_s)
            changed.clear()
            await asyncio.sleep(WALLBOARD_MIN_GAP_S)  # a burst of events, and the facts they store, settle
    finally:
        watcher.cancel()
        with suppress(asyncio.CancelledError):
            await watcher


async def send_events(
    request: web.Request, items: AsyncIterator[Item], *, keepalive: float
) -> web.StreamResponse:
    """Stream ``items`` as server-sent events (a comment as keep-alive) until the page goes away; the
    stream is one of the app's open ``streams`` (ended by :func:`end_streams`) while it runs."""
    streams = request.app[WEB_KEY].streams
    return await stream_events(request, items, _as_sent, keepalive=keepalive, streams=streams)


def _as_sent(item: Item) -> Item:
    return item


async def end_streams(app: web.Application) -> None:
    """``on_shutdown``: end the open event streams, so a page left open never holds up a shutdown."""
    streams = app[WEB_KEY].streams
    for task in list(streams):
        task.cancel()
