"""Several nodes: a desk control sent to a node that does not hold the call goes to the node that does.

A call's bridge lives on the Asterisk of the node that answered it, and only that node's ``ivr serve``
can hold, transfer or listen in on it. An agent's browser may be served by any node (Kamailio and a
load balancer pick one), so these requests are forwarded when another node holds the agent's call:

- ``POST /web/calls/{call_id}/...`` (hold, resume, hang-up, transfer, consult): the signed-in agent's call;
- ``POST /web/agents/{agent_id}/monitor``: that agent's call (a supervisor's listen, whisper, barge).

Which node holds it is the ACD's shared state (``acd_agents.node``, the node's ``web_url`` from its
lease; ``holder_of``). Only a request from a page of this node's origin is forwarded (a cross-site one
is refused here, as always). It goes with its method, path, body, session cookie and ``Content-Type``,
and ``Origin`` set to the holder's, so the holding node checks the session, the agent's ownership of the
call and the JSON rules itself (every node signs sessions with the same key: they share one users file).
It carries ``X-Ivr-Forwarded-By`` (this node), and a forwarded request is never forwarded again. The
holder's answer is relayed as it is; a holder that does not answer within ``FORWARD_TIMEOUT`` gives 502
with what failed. Everything else, and every request on a single node, is handled where it arrives; so
is a request whose holder cannot be looked up (the database is away: this node answers for the calls it
holds, and refuses the others with 409 as before).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from yarl import URL

from acd.live.lease import NodeAddress
from ivr_engine.logs import fields
from ivr_engine.web.context import current_user, same_origin

__all__ = ["FORWARDED_BY", "FORWARD_TIMEOUT", "HolderOf", "add_node_forwarding"]

log = logging.getLogger(__name__)

FORWARDED_BY = "X-Ivr-Forwarded-By"
FORWARD_TIMEOUT = 10.0
"""Seconds the holding node has to answer (a consult or transfer answers once the ACD has acted)."""

HolderOf = Callable[[str], Awaitable[NodeAddress | None]]
"""The other node holding an agent's call (None: this node, or no call)."""

_CALL_CONTROL = re.compile(r"^/web/calls/[^/]+/")
_MONITOR = re.compile(r"^/web/agents/([^/]+)/monitor$")
_PASSED_ON = (hdrs.COOKIE, hdrs.CONTENT_TYPE, hdrs.USER_AGENT)
_SESSION_KEY: web.AppKey[aiohttp.ClientSession] = web.AppKey("forward_session")


def add_node_forwarding(app: web.Application, holder_of: HolderOf, *, node: str) -> None:
    """Forward ``app``'s call controls to the node holding the call (``node``: this node's name).
    Call before the app starts."""

    @web.middleware
    async def forward(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or FORWARDED_BY in request.headers or not same_origin(request):
            return await handler(request)
        agent_id = _agent_of(request)
        if agent_id is None:
            return await handler(request)
        try:
            holder = await holder_of(agent_id)
        except Exception as exc:  # the shared store is away: this node answers for what it holds
            log.warning(fields("web.forward_lookup_failed", path=request.path, error=str(exc)))
            holder = None
        if holder is None:
            return await handler(request)
        return await _relay(request, holder, node)

    async def open_session(app: web.Application) -> None:
        app[_SESSION_KEY] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=FORWARD_TIMEOUT),
                                                  auto_decompress=False)

    async def close_session(app: web.Application) -> None:
        await app[_SESSION_KEY].close()

    app.middlewares.append(forward)
    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)


def _agent_of(request: web.Request) -> str | None:
    """The agent whose call ``request`` acts on, if it is a control a node holding the call must do."""
    monitor = _MONITOR.match(request.path)
    if monitor is not None:
        return monitor.group(1)
    if _CALL_CONTROL.match(request.path):
        user = current_user(request)  # no user: handled here (401), as any unsigned request
        return None if user is None else user.agent_id
    return None


async def _relay(request: web.Request, holder: NodeAddress, node: str) -> web.Response:
    session = request.app[_SESSION_KEY]
    headers: dict[str, str] = {str(name): request.headers[name] for name in _PASSED_ON
                               if name in request.headers}
    headers[FORWARDED_BY] = node
    headers[hdrs.ORIGIN] = str(URL(holder.web_url).origin())
    body = await request.read()
    url = f"{holder.web_url}{request.path_qs}"
    try:
        async with session.post(url, data=body, headers=headers, allow_redirects=False) as answer:
            content = await answer.read()
            log.info(fields("web.forwarded", path=request.path, to=holder.node, status=answer.status))
            return web.Response(status=answer.status, body=content, content_type=answer.content_type,
                                charset=answer.charset)
    except (aiohttp.ClientError, TimeoutError) as exc:
        error = str(exc) or type(exc).__name__
        log.warning(fields("web.forward_failed", path=request.path, to=holder.node, error=error))
        return web.json_response(
            {"error": f"{holder.node} holds this call and did not answer ({error}); try again"},
            status=502,
        )
