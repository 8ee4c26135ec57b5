"""Which call a signed-in agent may act on: one they answered (any domain's desktop route checks it)."""

from __future__ import annotations

import re

from aiohttp import web

from ivr_engine.control.app import SCREENPOPS_KEY
from ivr_engine.web.context import WEB_KEY, refuse, require_user
from ivr_engine.web.desk import answered_by
from ivr_engine.web.users import Role, WebUser

__all__ = ["own_call"]

_CALL_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


async def own_call(request: web.Request) -> tuple[WebUser, str, str]:
    """The signed-in agent, their agent id and the call in the path, which they must have answered
    (403 otherwise; 400 for a malformed call id)."""
    user = require_user(request, Role.AGENT)
    call_id = request.match_info["call_id"]
    if not _CALL_ID.match(call_id):
        raise refuse(400, "a call id is 1-64 letters, digits, '.', '_', ':' or '-'")
    assert user.agent_id is not None  # an agent user always has one
    ctx = request.app[WEB_KEY]
    if not await answered_by(ctx.database, request.app[SCREENPOPS_KEY], user.agent_id, call_id):
        raise refuse(403, f"call {call_id} was not answered by agent {user.agent_id}")
    return user, user.agent_id, call_id
