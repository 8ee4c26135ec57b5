"""``POST /api/agents/{id}/monitor`` (token-checked like every ``/api`` route): a supervisor listens in on
an agent's live call (``acd.live.monitor``).

Body ``{"supervisor": "PJSIP/1001", "mode": "listen|whisper|barge", "by": "boss"}``: ``supervisor`` is the
phone rung (an endpoint, or bare digits for ``PJSIP/<digits>``); ``by`` must be a web user with the role
``supervisor`` (``ivr web user add NAME --role supervisor``), else 403. 409 when the agent is not on a
call here (or Asterisk refuses); the answer is the session ``{"id", "agent_id", "call_id", "supervisor",
"mode"}``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from acd.live.monitor import MonitorError, MonitorMode, MonitorSession
from ivr_engine.control.body import read_json_object
from ivr_engine.control.http_errors import Refusal
from ivr_engine.logs import fields
from ivr_engine.web.users import Role, UserStore

__all__ = ["MONITOR_KEY", "StartMonitor", "add_monitor_route", "endpoint_of"]

log = logging.getLogger(__name__)

StartMonitor = Callable[[str, str, MonitorMode], Awaitable[MonitorSession]]
MONITOR_KEY = web.AppKey("web.monitor", tuple)
_ENDPOINT = re.compile(r"^[A-Za-z]{2,16}/[A-Za-z0-9_.@:-]{1,64}$")


def add_monitor_route(app: web.Application, start: StartMonitor, users: UserStore) -> None:
    app[MONITOR_KEY] = (start, users)
    app.router.add_post("/api/agents/{agent_id}/monitor", _monitor)


def endpoint_of(phone: str) -> str | None:
    """``PJSIP/1001`` as given, ``1001`` as ``PJSIP/1001``; None for anything else."""
    phone = phone.strip()
    if phone.isdigit() and len(phone) <= 32:
        return f"PJSIP/{phone}"
    return phone if _ENDPOINT.match(phone) else None


async def _monitor(request: web.Request) -> web.Response:
    start, users = request.app[MONITOR_KEY]
    agent_id = request.match_info["agent_id"]
    body = await read_json_object(request)
    by, phone, mode_text = body.get("by"), body.get("supervisor"), body.get("mode", "listen")
    if not isinstance(by, str) or not by:
        raise Refusal(400, 'monitor needs "by": the supervisor\'s web user name')
    user = await asyncio.to_thread(users.get, by)
    if user is None or user.role is not Role.SUPERVISOR:
        log.warning(fields("web.monitor_refused", agent=agent_id, by=by))
        raise Refusal(403, f"{by} is not a supervisor (ivr web user add {by} --role supervisor)")
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
