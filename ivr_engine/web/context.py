"""What the web routes share: their settings on the app, the signed-in user, JSON bodies and errors.

Every web failure is JSON ``{"error": "..."}`` with a 4xx status, raised as :func:`refuse` (a
``Refusal``) and answered by the control app's error middleware. Bodies are read by the control app's
one body reader (``control.body``) after the CSRF checks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Protocol

from aiohttp import hdrs, web

from acd.live.controls import Redirect
from acd.live.desk_state import DeskState
from acd.live.inflight import Consult
from acd.records import AcdRecorder
from ivr_engine.clock import CentreTime
from ivr_engine.control.body import read_json_object
from ivr_engine.control.http_errors import Refusal
from ivr_engine.storage.database import Database
from ivr_engine.web.errors import WebError
from ivr_engine.web.session import COOKIE_NAME, SessionSigner
from ivr_engine.web.throttle import LoginThrottle
from ivr_engine.web.users import Role, UserStore, WebUser
from ivr_engine.web.wallboard import ServiceLevelBands

__all__ = [
    "CALLS_KEY",
    "WEB_KEY",
    "DeskCalls",
    "WebContext",
    "current_user",
    "json_body",
    "refuse",
    "require_user",
    "same_origin",
    "text_field",
]

MAX_PASSWORD_CHECKS = 2
"""Password checks (scrypt, in worker threads) running at once; more wait, so a burst of sign-ins
cannot take every core from the calls."""


@dataclass(frozen=True)
class WebContext:
    database: Database
    users: UserStore
    recorder: AcdRecorder
    signer: SessionSigner
    main_flow: str
    sla_s: float
    survey_wait_s: float
    survey_poll_s: float
    refresh_s: float
    keepalive_s: float
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    password_checks: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_PASSWORD_CHECKS))
    streams: set[asyncio.Task[object]] = field(default_factory=set)
    """Handlers serving an event stream now; ended when the app shuts down."""
    centre: CentreTime = field(default_factory=lambda: CentreTime(UTC))
    """The centre's time zone: the wallboard's "today" is its local day."""
    bands: ServiceLevelBands = field(default_factory=ServiceLevelBands)
    """The wallboard's service-level colours."""


WEB_KEY: web.AppKey[WebContext] = web.AppKey("web_desktop")


class DeskCalls(Protocol):
    """What the routes need of ``acd.live.controls.CallControls``."""

    def held(self, call_id: str) -> bool: ...

    def desk_state(self, call_id: str) -> DeskState | None: ...

    async def hold(self, agent_id: str, call_id: str) -> None: ...

    async def resume(self, agent_id: str, call_id: str) -> None: ...

    async def hang_up(self, agent_id: str, call_id: str) -> None: ...

    async def transfer(self, agent_id: str, call_id: str, *, queue: str | None = None,
                       to_agent: str | None = None) -> Redirect: ...

    async def extend_wrap_up(self, agent_id: str, seconds: float) -> float: ...

    def consulting(self, call_id: str) -> Consult | None: ...

    async def consult(self, agent_id: str, call_id: str, target: str) -> Consult: ...

    async def complete_consult(self, agent_id: str, call_id: str, *,
                               handed: Callable[[str], Awaitable[None]] | None = None) -> str: ...

    async def cancel_consult(self, agent_id: str, call_id: str) -> None: ...


CALLS_KEY: web.AppKey[DeskCalls] = web.AppKey("desk_calls")
"""On the app when the desk's call controls are mounted (``ivr_engine.web.call_controls``)."""


def refuse(status: int, message: str, *, headers: Mapping[str, str] | None = None) -> Refusal:
    """A JSON error response to raise: ``raise refuse(403, "...")``."""
    return Refusal(status, message, headers=headers)


def current_user(request: web.Request) -> WebUser | None:
    """The user the session cookie names, if it is valid and the user still exists."""
    ctx = request.app[WEB_KEY]
    cookie = request.cookies.get(COOKIE_NAME, "")
    try:
        name = ctx.signer.verify(cookie) if cookie else None
        return ctx.users.get(name) if name else None
    except WebError as exc:
        raise refuse(503, str(exc)) from None


def require_user(request: web.Request, role: Role | None = None) -> WebUser:
    user = current_user(request)
    if user is None:
        raise refuse(401, "sign in first at /login")
    if role is not None and user.role is not role:
        article = "an" if role is Role.AGENT else "a"
        raise refuse(403, f"this needs {article} {role.value} account; {user.name} is a {user.role.value}")
    return user


def same_origin(request: web.Request) -> bool:
    """The request comes from a page of this origin (a browser's ``Origin``, else ``Sec-Fetch-Site``)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == f"{request.scheme}://{request.host}"
    return request.headers.get("Sec-Fetch-Site", "same-origin") == "same-origin"


async def json_body(request: web.Request) -> Mapping[str, Any]:
    """The POST's JSON object, after the CSRF checks (same origin, JSON content type even when empty)."""
    if not same_origin(request):
        raise refuse(403, "cross-site request refused")
    if hdrs.CONTENT_TYPE not in request.headers or request.content_type != "application/json":
        raise refuse(415, "send the request body as JSON (Content-Type: application/json)")
    return await read_json_object(request)


def text_field(body: Mapping[str, Any], key: str, *, max_length: int, required: bool = True) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise refuse(400, f"'{key}' must be text")
    value = value.strip()
    if required and not value:
        raise refuse(400, f"'{key}' is required")
    if len(value) > max_length:
        raise refuse(400, f"'{key}' is at most {max_length} characters")
    return value
