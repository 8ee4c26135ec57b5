"""The control API: a small JSON-over-HTTP app the running service serves on loopback.

Routes (all under ``/api``; every one but ``/api/health`` needs ``Authorization: Bearer <token>``):

==========================================  =====================================================
``GET  /api/health``                        ``{"status": "ok", "agents": n, "queues": n}``
``GET  /api/agents``                        ``{"agents": [agent, ...]}``
``GET  /api/agents/{id}``                   one agent
``POST /api/agents/{id}/login|logout|ready`` the agent after the change
``POST /api/agents/{id}/pause``             body ``{"reason": "..."}``; the agent after the change
``POST /api/agents/{id}/monitor``           a supervisor listens in (``web.monitor``)
``GET  /api/queues``                        ``{"queues": [queue, ...]}``
``GET  /api/agents/{id}/screenpop``         the agent's latest screen-pop (404 when none yet)
``GET  /api/agents/{id}/screenpops``        server-sent events: ``event: screenpop`` per answer
``GET  /api/events``                        server-sent events: ``event: <kind>`` per ACD event
==========================================  =====================================================

Every failure is JSON ``{"error": "..."}`` (one middleware, ``http_errors``): 400 bad input, 401
no/wrong token, 403 not from loopback, 404 unknown agent or route, 409 a refused state change (the
message says why), 413/415 a body too large or not UTF-8 JSON (``body``), 421 a ``Host`` that is not
ours (``hosts``: every route, not only ``/api``). Routes outside ``/api`` are left to whoever adds them
(the web desktop) and are not token-checked here.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

import acd
from acd.live.api import AcdControl, RuntimeEvent
from ivr_engine.control.body import read_json_object
from ivr_engine.control.hosts import host_check
from ivr_engine.control.http_errors import HANDLER_ARGS, Handler, Refusal, errors_middleware
from ivr_engine.control.sse import stream_events
from ivr_engine.control.views import AgentView, QueueView
from ivr_engine.screenpop import ScreenPopService

__all__ = [
    "CLOCK_KEY",
    "CONTROL_KEY",
    "MAX_REASON_LENGTH",
    "SCREENPOPS_KEY",
    "event_json",
    "make_control_app",
]

CONTROL_KEY: web.AppKey[AcdControl] = web.AppKey("acd_control")
SCREENPOPS_KEY: web.AppKey[ScreenPopService] = web.AppKey("screenpops")
CLOCK_KEY: web.AppKey[Callable[[], float]] = web.AppKey("clock")
_TOKEN_KEY: web.AppKey[str] = web.AppKey("control_token")
_KEEPALIVE_KEY: web.AppKey[float] = web.AppKey("sse_keepalive")

MAX_REASON_LENGTH = 64
_PUBLIC = frozenset({"/api/health"})
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def make_control_app(
    control: AcdControl,
    screenpops: ScreenPopService,
    token: str,
    *,
    clock: Callable[[], float] = time.time,
    keepalive: float = 15.0,
    allowed_hosts: Iterable[str] = (),
) -> web.Application:
    """The control API over ``control``; ``clock`` must be the ACD's clock (epoch seconds).

    ``allowed_hosts``: the names the app answers to besides the loopback ones (``hosts.allowed_hosts``
    gives them from the settings).
    """
    if not token:
        raise ValueError("the control API needs a non-empty bearer token")
    app = web.Application(middlewares=[errors_middleware, host_check(allowed_hosts), _auth],
                          handler_args=HANDLER_ARGS)
    app[CONTROL_KEY] = control
    app[SCREENPOPS_KEY] = screenpops
    app[CLOCK_KEY] = clock
    app[_TOKEN_KEY] = token
    app[_KEEPALIVE_KEY] = keepalive
    app.router.add_get("/api/health", _health)
    app.router.add_get("/api/agents", _agents)
    app.router.add_get("/api/agents/{agent_id}", _agent)
    app.router.add_post("/api/agents/{agent_id}/login", _login)
    app.router.add_post("/api/agents/{agent_id}/logout", _logout)
    app.router.add_post("/api/agents/{agent_id}/ready", _ready)
    app.router.add_post("/api/agents/{agent_id}/pause", _pause)
    app.router.add_get("/api/agents/{agent_id}/screenpop", _latest_screenpop)
    app.router.add_get("/api/agents/{agent_id}/screenpops", _screenpop_stream)
    app.router.add_get("/api/queues", _queues)
    app.router.add_get("/api/events", _event_stream)
    return app


# -- middlewares ----------------------------------------------------------------------------------


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/") or request.path in _PUBLIC:
        return await handler(request)
    if not _is_loopback(request.remote):
        raise Refusal(403, "the control API only answers on loopback")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Refusal(401, "missing bearer token", headers=_CHALLENGE)
    given = given.strip()
    if not given.isascii() or not hmac.compare_digest(given.encode(), request.app[_TOKEN_KEY].encode()):
        raise Refusal(401, "wrong bearer token", headers=_CHALLENGE)
    return await handler(request)


def _is_loopback(remote: str | None) -> bool:
    if remote is None:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


# -- agents ---------------------------------------------------------------------------------------


def _agent_view(request: web.Request, agent_id: str) -> AgentView:
    for agent in request.app[CONTROL_KEY].agents():
        if agent.id == agent_id:
            return AgentView.from_agent(agent, request.app[CLOCK_KEY]())
    raise acd.UnknownAgent(agent_id)


async def _health(request: web.Request) -> web.Response:
    control = request.app[CONTROL_KEY]
    return web.json_response(
        {"status": "ok", "agents": len(control.agents()), "queues": len(control.queue_statuses())}
    )


async def _agents(request: web.Request) -> web.Response:
    now = request.app[CLOCK_KEY]()
    agents = sorted(request.app[CONTROL_KEY].agents(), key=lambda a: a.id)
    return web.json_response({"agents": [AgentView.from_agent(a, now).to_json() for a in agents]})


async def _agent(request: web.Request) -> web.Response:
    return web.json_response(_agent_view(request, request.match_info["agent_id"]).to_json())


async def _login(request: web.Request) -> web.Response:
    agent_id = request.match_info["agent_id"]
    await read_json_object(request)
    await request.app[CONTROL_KEY].login(agent_id)
    return web.json_response(_agent_view(request, agent_id).to_json())


async def _logout(request: web.Request) -> web.Response:
    agent_id = request.match_info["agent_id"]
    await read_json_object(request)
    await request.app[CONTROL_KEY].logout(agent_id)
    return web.json_response(_agent_view(request, agent_id).to_json())


async def _ready(request: web.Request) -> web.Response:
    agent_id = request.match_info["agent_id"]
    await read_json_object(request)
    await request.app[CONTROL_KEY].ready(agent_id)
    return web.json_response(_agent_view(request, agent_id).to_json())


async def _pause(request: web.Request) -> web.Response:
    agent_id = request.match_info["agent_id"]
    body = await read_json_object(request)
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise Refusal(400, 'pause needs a JSON body {"reason": "<text>"} with a non-empty reason')
    reason = reason.strip()
    if len(reason) > MAX_REASON_LENGTH or not reason.isprintable():
        raise Refusal(400, f"a pause reason is at most {MAX_REASON_LENGTH} printable characters")
    await request.app[CONTROL_KEY].pause(agent_id, reason)
    return web.json_response(_agent_view(request, agent_id).to_json())


# -- queues ---------------------------------------------------------------------------------------


async def _queues(request: web.Request) -> web.Response:
    now = request.app[CLOCK_KEY]()
    statuses = sorted(request.app[CONTROL_KEY].queue_statuses(), key=lambda s: s.queue)
    return web.json_response({"queues": [QueueView.from_status(s, now).to_json() for s in statuses]})


# -- screen-pops and event streams ---------------------------------------------------------------


async def _latest_screenpop(request: web.Request) -> web.Response:
    agent_id = _agent_view(request, request.match_info["agent_id"]).id
    pop = request.app[SCREENPOPS_KEY].latest(agent_id)
    if pop is None:
        raise Refusal(404, f"no screen-pop yet for agent {agent_id}")
    return web.json_response(pop.to_json())


async def _screenpop_stream(request: web.Request) -> web.StreamResponse:
    agent_id = _agent_view(request, request.match_info["agent_id"]).id
    pops = request.app[SCREENPOPS_KEY].stream(agent_id)
    return await stream_events(request, pops, lambda pop: ("screenpop", pop.to_json()),
                               keepalive=request.app[_KEEPALIVE_KEY])


async def _event_stream(request: web.Request) -> web.StreamResponse:
    events = request.app[CONTROL_KEY].subscribe()
    return await stream_events(request, events, lambda e: (e.kind.value, event_json(e)),
                               keepalive=request.app[_KEEPALIVE_KEY])


def event_json(event: RuntimeEvent) -> dict[str, Any]:
    return {
        "kind": event.kind.value,
        "at": event.at.isoformat(),
        "agent_id": event.agent_id,
        "call_id": event.call_id,
        "caller": event.caller,
        "queue": event.queue,
        "detail": event.detail,
        "node": event.node,
    }
