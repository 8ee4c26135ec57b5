"""Listen-in (``acd.live.monitor``): a supervisor listens to, whispers to or barges into an agent's live
call. Two doors, one code path (:func:`_start`):

=======================================  ===============================================================
``POST /api/agents/{id}/monitor``        token-checked like every ``/api`` route (the CLI); ``by`` in
                                         the body must be a web user with the role ``supervisor``
``POST /web/agents/{id}/monitor``        the wallboard: the signed-in web user must be a supervisor
                                         (cookie session, CSRF-checked like every web POST); mounted
                                         when the web routes are (``add_web_routes`` first)
=======================================  ===============================================================

Body ``{"supervisor": "PJSIP/1001", "mode": "listen|whisper|barge", "by": "boss"}`` (``by`` only on
``/api``): ``supervisor`` is the phone rung (an endpoint, or bare digits for ``PJSIP/<digits>``). 403 for
anyone but a supervisor (``ivr web user add NAME --role supervisor``); 400 for a bad phone or mode; 409
when the agent is not on a call here (or Asterisk refuses); the answer is the session ``{"id",
"agent_id", "call_id", "supervisor", "mode"}``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from acd.live.monitor import MonitorError, MonitorMode, MonitorSession
from ivr_engine.control.body import read_json_object
from ivr_engine.control.http_errors import Refusal
from ivr_engine.logs import fields
from ivr_engine.web.context import WEB_KEY, json_body, require_user
from ivr_engine.web.users import Role, UserStore

__all__ = ["MONITOR_KEY", "StartMonitor", "add_monitor_route", "endpoint_of"]

log = logging.getLogger(__name__)

StartMonitor = Callable[[str, str, MonitorMode], Awaitable[MonitorSession]]
MONITOR_KEY = web.AppKey("web.monitor", tuple)
_ENDPOINT = re.compile(r"^[A-Za-z]{2,16}/[A-Za-z0-9_.@:-]{1,64}$")


def add_monitor_route(app: web.Application, start: StartMonitor, users: UserStore) -> None:
    """The ``/api`` route, and the wallboard's ``/web`` route when the web routes are mounted."""
    app[MONITOR_KEY] = (start, users)
    app.router.add_post("/api/agents/{agent_id}/monitor", _api_monitor)
    if WEB_KEY in app:
        app.router.add_post("/web/agents/{agent_id}/monitor", _web_monitor)


def endpoint_of(phone: str) -> str | None:
    """``PJSIP/1001`` as given, ``1001`` as ``PJSIP/1001``; None for anything else."""
    phone = phone.strip()
    if phone.isdigit() and len(phone) <= 32:
        return f"PJSIP/{phone}"
    return phone if _ENDPOINT.match(phone) else None


async def _api_monitor(request: web.Request) -> web.Response:
    _, users = request.app[MONITOR_KEY]
    agent_id = request.match_info["agent_id"]
    body = await read_json_object(request)
    by = body.get("by")
    if not isinstance(by, str) or not by:
        raise Refusal(400, 'monitor needs "by": the supervisor\'s web user name')
    user = await asyncio.to_thread(users.get, by)
    if user is None or user.role is not Role.SUPERVISOR:
        log.warning(fields("web.monitor_refused", agent=agent_id, by=by))
        raise Refusal(403, f"{by} is not a supervisor (ivr web user add {by} --role supervisor)")
    return await _start(request, agent_id, body)


async def _web_monitor(request: web.Request) -> web.Response:
    agent_id = request.match_info["agent_id"]
    user = require_user(request)
    if user.role is not Role.SUPERVISOR:
        log.warning(fields("web.monitor_refused", agent=agent_id, by=user.name))
        raise Refusal(403, f"only supervisors may listen in; {user.name} is an {user.role.value}")
    return await _start(request, agent_id, await json_body(request))


async def _start(request: web.Request, agent_id: str, body: Mapping[str, Any]) -> web.Response:
    """The supervisor is checked: check the phone and the mode, then ask the ACD."""
    start, _ = request.app[MONITOR_KEY]
    phone, mode_text = body.get("supervisor"), body.get("mode", "listen")
    endpoint = endpoint_of(phone) if isinstance(phone, str) else None
    if endpoint is None:
        raise Refusal(400, 'monitor needs "supervisor": the phone to ring, e.g. PJSIP/1001 or 1001')
    try:
        mode = MonitorMode(mode_text)
    except ValueError:
        raise Refusal(400, f"mode must be one of {', '.join(m.value for m in MonitorMode)}") from None
    try:
        session = await start(agent_id, endpoint, mode)
    except MonitorError as exc:
        raise Refusal(409, str(exc)) from None
    return web.json_response(session.to_json())
