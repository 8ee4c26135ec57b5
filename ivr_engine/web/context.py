"""What the web routes share: their settings on the app, the signed-in user, JSON bodies and errors.

Every web failure is JSON ``{"error": "..."}`` with a 4xx status (raised as :func:`refuse`), which the
control app's error middleware passes through unchanged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from aiohttp import web

from ivr_engine.clock import CentreTime
from ivr_engine.reports import AcdRecorder
from ivr_engine.storage.database import Database
from ivr_engine.web.errors import WebError
from ivr_engine.web.session import COOKIE_NAME, SessionSigner
from ivr_engine.web.users import Role, UserStore, WebUser

__all__ = [
    "WEB_KEY",
    "WebContext",
    "current_user",
    "json_body",
    "refuse",
    "require_user",
    "text_field",
]

MAX_BODY = 16 * 1024


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
    streams: set[asyncio.Task[object]] = field(default_factory=set)
    """Handlers serving an event stream now; ended when the app shuts down."""
    centre: CentreTime = field(default_factory=lambda: CentreTime(UTC))
    """The centre's time zone: the wallboard's "today" is its local day."""


WEB_KEY: web.AppKey[WebContext] = web.AppKey("web_desktop")


def refuse(status: int, message: str) -> web.HTTPException:
    """A JSON error response to raise: ``raise refuse(403, "...")``."""
    classes: Mapping[int, Callable[..., web.HTTPException]] = {
        400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound,
        409: web.HTTPConflict, 503: web.HTTPServiceUnavailable,
    }
    body = json.dumps({"error": message})
    if status == 413:
        return web.HTTPRequestEntityTooLarge(
            MAX_BODY, MAX_BODY + 1, text=body, content_type="application/json"
        )
    return classes.get(status, web.HTTPBadRequest)(text=body, content_type="application/json")


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


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == f"{request.scheme}://{request.host}"
    return request.headers.get("Sec-Fetch-Site", "same-origin") == "same-origin"


async def json_body(request: web.Request) -> Mapping[str, Any]:
    """The POST's JSON object, after the CSRF checks (same origin, JSON content type)."""
    if not _same_origin(request):
        raise refuse(403, "cross-site request refused")
    if request.content_type != "application/json":
        raise refuse(400, "send the request body as application/json")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise refuse(413, f"the request body is larger than {MAX_BODY} bytes")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise refuse(413, f"the request body is larger than {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise refuse(400, f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise refuse(400, "the request body must be a JSON object")
    return data


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
