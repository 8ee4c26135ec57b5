"""The web desktop's routes, mounted on the control app by :func:`add_web_routes`.

==========================================  ===========================================================
``GET  /login``, ``/agent``, ``/wallboard``  pages (``/agent`` and ``/wallboard`` redirect to ``/login``
                                            when signed out; ``/wallboard`` needs a supervisor)
``POST /login``                             ``{"username", "password"}`` -> session cookie (throttled)
``POST /logout``                            clears the cookie
``GET  /web/me``                            the signed-in user and, for an agent, their ACD state (with
                                            the ``actions`` the desk offers and ``wrap_up_left``)
``POST /web/agents/{id}/login|logout|ready`` drive the agent's state machine (``/pause``: ``{"reason"}``)
``GET  /web/agents/{id}/screenpop``         their latest screen-pop (with ``call_ref`` references)
``GET  /web/agents/{id}/events``            SSE: agent state, offered/answered/ended, screenpop, survey
``POST /web/agents/{id}/monitor``           listen-in (supervisor): ``ivr_engine.web.monitor``
``POST /web/calls/{call_id}/wrapup``        ``{"disposition", "note"}`` stored against the call
``GET  /web/calls/{call_id}/survey``        the caller's survey answers (404 until they answered)
``POST /web/calls/{call_id}/hold|...``      call controls: ``ivr_engine.web.call_controls``
``GET  /web/wallboard``                     the wallboard figures (supervisor)
``GET  /web/wallboard/events``              SSE: a wallboard snapshot per change
==========================================  ===========================================================

An agent may act only for their own agent id and see only calls they answered (403 otherwise);
supervisors may act for any agent. Every POST is CSRF-checked (same origin, JSON body). Sign-in checks
the password in a worker thread (scrypt must not stall the calls on the event loop) and is throttled
per user name and per address (``throttle``): past the limit it answers 429 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from aiohttp import web

from acd.records import AcdRecorder
from ivr_engine.clock import CentreTime
from ivr_engine.control.app import CLOCK_KEY, CONTROL_KEY, MAX_REASON_LENGTH, SCREENPOPS_KEY
from ivr_engine.logs import fields
from ivr_engine.storage.database import Database
from ivr_engine.web.call_ref import pop_json
from ivr_engine.web.context import (
    WEB_KEY,
    WebContext,
    current_user,
    json_body,
    refuse,
    require_user,
    text_field,
)
from ivr_engine.web.desk import DISPOSITIONS, MAX_NOTE_LENGTH, PAUSE_REASONS, survey_result
from ivr_engine.web.errors import WebError
from ivr_engine.web.feeds import agent_feed, agent_json, end_streams, send_events, wallboard_feed
from ivr_engine.web.ownership import own_call
from ivr_engine.web.session import COOKIE_NAME, SESSION_SECONDS, SessionSigner
from ivr_engine.web.throttle import LoginThrottle
from ivr_engine.web.users import Role, UserStore, WebUser
from ivr_engine.web.wallboard import ServiceLevelBands, build_wallboard

__all__ = ["STATIC_DIR", "add_web_routes"]

log = logging.getLogger(__name__)

STATIC_DIR = Path(str(resources.files("ivr_engine.web") / "static"))
_MAX_NAME = 64
_MAX_PASSWORD = 256


def add_web_routes(
    app: web.Application,
    *,
    database: Database,
    users: UserStore,
    recorder: AcdRecorder | None = None,
    main_flow: str = "main",
    sla_s: float = 20.0,
    survey_wait_s: float = 300.0,
    survey_poll_s: float = 2.0,
    refresh_s: float = 5.0,
    keepalive_s: float = 15.0,
    centre: CentreTime | None = None,
    throttle: LoginThrottle | None = None,
    bands: ServiceLevelBands | None = None,
) -> None:
    """Mount the login page, agent desktop and wallboard on ``app`` (from ``make_control_app``).

    ``throttle`` limits failed sign-ins (default: 5 per user and 20 per address a minute).
    """
    for key in (CONTROL_KEY, SCREENPOPS_KEY, CLOCK_KEY):
        if key not in app:
            raise ValueError("add_web_routes needs the control app from make_control_app")
    app[WEB_KEY] = WebContext(
        database=database,
        users=users,
        recorder=recorder or AcdRecorder(database),
        signer=SessionSigner(users.session_key, clock=app[CLOCK_KEY]),
        main_flow=main_flow,
        sla_s=sla_s,
        survey_wait_s=survey_wait_s,
        survey_poll_s=survey_poll_s,
        refresh_s=refresh_s,
        keepalive_s=keepalive_s,
        centre=centre or CentreTime(UTC),
        throttle=throttle or LoginThrottle(),
        bands=bands or ServiceLevelBands(),
    )
    app.on_shutdown.append(end_streams)
    r = app.router
    r.add_get("/", _home)
    r.add_get("/login", _page("login.html"))
    r.add_post("/login", _sign_in)
    r.add_post("/logout", _sign_out)
    r.add_get("/agent", _page("agent.html", Role.AGENT))
    r.add_get("/wallboard", _page("wallboard.html", Role.SUPERVISOR))
    r.add_static("/static/web/", STATIC_DIR, show_index=False, follow_symlinks=False)
    r.add_get("/web/me", _me)
    # "monitor" is the wallboard's listen-in (ivr_engine.web.monitor, mounted after these routes)
    r.add_post("/web/agents/{agent_id}/{action:(?!monitor$)[^/]+}", _agent_action)
    r.add_get("/web/agents/{agent_id}/screenpop", _screenpop)
    r.add_get("/web/agents/{agent_id}/events", _agent_events)
    r.add_post("/web/calls/{call_id}/wrapup", _wrap_up)
    r.add_get("/web/calls/{call_id}/survey", _survey)
    r.add_get("/web/wallboard", _wallboard)
    r.add_get("/web/wallboard/events", _wallboard_events)


# -- pages and sign-in ----------------------------------------------------------------------------


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def _landing(user: WebUser) -> str:
    return "/wallboard" if user.role is Role.SUPERVISOR else "/agent"


async def _home(request: web.Request) -> web.Response:
    user = current_user(request)
    return _redirect("/login" if user is None else _landing(user))


def _page(name: str, role: Role | None = None) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        if role is not None:
            user = current_user(request)
            if user is None:
                return _redirect("/login")
            if user.role is not role:
                return _redirect(_landing(user))
        return web.FileResponse(STATIC_DIR / name, headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'",
            "X-Frame-Options": "DENY",
        })

    return handler


async def _sign_in(request: web.Request) -> web.Response:
    body = await json_body(request)
    name = text_field(body, "username", max_length=_MAX_NAME).lower()
    password = body.get("password")
    if not isinstance(password, str) or not password or len(password) > _MAX_PASSWORD:
        raise refuse(400, f"'password' is required (at most {_MAX_PASSWORD} characters)")
    ctx = request.app[WEB_KEY]
    address = request.remote or "unknown"
    throttled = ctx.throttle.admit(name, address)
    if throttled is not None:
        log.warning(fields("web.login_throttled", user=name, remote=address, by=throttled.by,
                           retry_after=throttled.retry_after_s))
        whose = f"for user {name}" if throttled.by == "user" else "from this address"
        raise refuse(429, f"too many failed sign-ins {whose}; try again in {throttled.retry_after_s} s",
                     headers={"Retry-After": str(throttled.retry_after_s)})
    try:
        async with ctx.password_checks:
            user = await asyncio.to_thread(ctx.users.authenticate, name, password)
    except WebError as exc:
        ctx.throttle.withdraw(name, address)  # not the user's failure
        raise refuse(503, str(exc)) from None
    if user is None:
        log.warning(fields("web.login_failed", user=name, remote=address))
        raise refuse(401, "wrong user name or password")
    ctx.throttle.forgive(name, address)
    response = web.json_response({"user": user.name, "role": user.role.value, "redirect": _landing(user)})
    response.set_cookie(COOKIE_NAME, ctx.signer.sign(user.name), max_age=SESSION_SECONDS, path="/",
                        httponly=True, samesite="Strict")
    return response


async def _sign_out(request: web.Request) -> web.Response:
    await json_body(request)
    response = web.json_response({"redirect": "/login"})
    response.del_cookie(COOKIE_NAME, path="/")
    return response


# -- agent desktop --------------------------------------------------------------------------------


def _agent_for(request: web.Request) -> tuple[WebUser, str]:
    """The signed-in user and the agent id in the path, which they must be allowed to act for."""
    user = require_user(request)
    agent_id = request.match_info["agent_id"]
    if not user.may_act_for(agent_id):
        raise refuse(403, f"{user.name} may not see or act for agent {agent_id}")
    if not any(a.id == agent_id for a in request.app[CONTROL_KEY].agents()):
        raise refuse(404, f"no agent {agent_id} in the ACD")
    return user, agent_id


async def _me(request: web.Request) -> web.Response:
    user = require_user(request)
    return web.json_response({
        "user": user.name,
        "role": user.role.value,
        "agent_id": user.agent_id,
        "agent": agent_json(request, user.agent_id) if user.agent_id else None,
        "dispositions": list(DISPOSITIONS),
        "pause_reasons": list(PAUSE_REASONS),
        "queues": sorted(s.queue for s in request.app[CONTROL_KEY].queue_statuses()),
    })


async def _agent_action(request: web.Request) -> web.Response:
    _, agent_id = _agent_for(request)
    action = request.match_info["action"]
    body = await json_body(request)
    control = request.app[CONTROL_KEY]
    if action == "pause":
        reason = text_field(body, "reason", max_length=MAX_REASON_LENGTH)
        if not reason.isprintable():
            raise refuse(400, "a pause reason must be printable text")
        await control.pause(agent_id, reason)
    elif action == "ready":
        await control.ready(agent_id)
    elif action == "login":
        await control.login(agent_id)
    elif action == "logout":
        await control.logout(agent_id)
    else:
        raise refuse(404, f"unknown agent action {action!r} (login, logout, ready, pause)")
    return web.json_response(agent_json(request, agent_id))


async def _screenpop(request: web.Request) -> web.Response:
    _, agent_id = _agent_for(request)
    pop = request.app[SCREENPOPS_KEY].latest(agent_id)
    if pop is None:
        raise refuse(404, f"no screen-pop yet for agent {agent_id}")
    return web.json_response(pop_json(pop, request.app[WEB_KEY].centre))


async def _agent_events(request: web.Request) -> web.StreamResponse:
    _, agent_id = _agent_for(request)
    return await send_events(request, agent_feed(request, agent_id),
                             keepalive=request.app[WEB_KEY].keepalive_s)


async def _wrap_up(request: web.Request) -> web.Response:
    _, agent_id, call_id = await own_call(request)
    body = await json_body(request)
    disposition = text_field(body, "disposition", max_length=64)
    if disposition not in DISPOSITIONS:
        raise refuse(400, f"unknown disposition {disposition!r}; one of: {', '.join(DISPOSITIONS)}")
    note = text_field(body, "note", max_length=MAX_NOTE_LENGTH, required=False)
    at = datetime.fromtimestamp(request.app[CLOCK_KEY](), UTC)
    stored = await request.app[WEB_KEY].recorder.wrap_up(
        call_id=call_id, agent_id=agent_id, disposition=disposition, note=note, at=at
    )
    if not stored:
        raise refuse(503, "the wrap-up could not be stored (database unavailable); try again")
    return web.json_response({"call_id": call_id, "disposition": disposition, "note": note,
                              "at": at.isoformat()})


async def _survey(request: web.Request) -> web.Response:
    _, _, call_id = await own_call(request)
    result = await survey_result(request.app[WEB_KEY].database, call_id)
    if result is None:
        raise refuse(404, f"the caller of {call_id} has not answered the survey (yet)")
    return web.json_response(result.to_json())


# -- wallboard ------------------------------------------------------------------------------------


async def _wallboard(request: web.Request) -> web.Response:
    require_user(request, Role.SUPERVISOR)
    ctx = request.app[WEB_KEY]
    board = await build_wallboard(request.app[CONTROL_KEY], ctx.database, clock=request.app[CLOCK_KEY],
                                  flow=ctx.main_flow, sla_s=ctx.sla_s, centre=ctx.centre, bands=ctx.bands)
    return web.json_response(board.to_json())


async def _wallboard_events(request: web.Request) -> web.StreamResponse:
    require_user(request, Role.SUPERVISOR)
    return await send_events(request, wallboard_feed(request), keepalive=request.app[WEB_KEY].keepalive_s)
