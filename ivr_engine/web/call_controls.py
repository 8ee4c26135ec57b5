"""The agent desktop's call controls: hold, resume, hang up, blind transfer and more wrap-up time.

==============================================  =====================================================
``POST /web/calls/{call_id}/hold``              the caller hears music on hold; the agent silence
``POST /web/calls/{call_id}/resume``            the caller is back with the agent
``POST /web/calls/{call_id}/hangup``            ends the caller's call; the agent goes to wrap-up
``POST /web/calls/{call_id}/transfer``          ``{"queue": "billing"}`` or ``{"agent": "1002"}``:
                                                blind transfer (the caller re-enters the ACD)
``POST /web/calls/{call_id}/consult``           ``{"agent": "1002"}``: consult transfer: the caller on
                                                hold, the (ready) agent's phone rings, then both talk
``POST /web/calls/{call_id}/consult/complete``  the consulted agent takes the call; this one wraps up
``POST /web/calls/{call_id}/consult/cancel``    the consulted agent's leg ends; the caller is back
``POST /web/calls/{call_id}/wrapup-time``       ``{"seconds": 60}``: more wrap-up time (1-600 s)
==============================================  =====================================================

Only the agent who answered the call may use them (``own_call``: 401/403), and only while they are
bridged to it (409 otherwise, as for a control the call's state does not allow: holding a held call).
A transfer names a queue or an agent the ACD has (404 otherwise), and an agent who is ready (409). Each
answers the agent's fresh state (``agent_json``, with ``call_controls`` and ``held``). A transfer also
writes a step to the call's node path (flow ``desk``, node ``transfer``, input the target), so the next
agent's screen-pop shows who transferred the call and where; a completed consult transfer writes
``desk / consult transfer / agent X / by agent Y`` the same way. During a consult, hold, resume and blind
transfer answer 409; complete answers 409 until the consulted agent has answered.

The runtime's ``acd.live.controls.CallControls`` carries them out; the service puts it on the app under
``CALLS_KEY`` (``add_call_control_routes``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from acd.desk_ops import MAX_WRAP_UP_LEFT
from acd.live.controls import ControlRefused, NotOnThisCall, Redirect, UnknownTarget
from ivr_engine.control.app import CLOCK_KEY
from ivr_engine.logs import fields
from ivr_engine.storage.database import Database
from ivr_engine.storage.models import NodeEntryRow, NodeEventRow
from ivr_engine.web.context import CALLS_KEY, WEB_KEY, DeskCalls, json_body, refuse, text_field
from ivr_engine.web.feeds import agent_json
from ivr_engine.web.ownership import own_call

__all__ = ["DESK_FLOW", "add_call_control_routes", "record_desk_step", "record_transfer_step"]

log = logging.getLogger(__name__)

DESK_FLOW = "desk"
"""The flow name of steps the desk adds to a call's node path."""


def add_call_control_routes(app: web.Application, calls: DeskCalls) -> None:
    """Mount the call controls on the app of ``add_web_routes``."""
    if WEB_KEY not in app:
        raise ValueError("add_call_control_routes needs the web desktop (add_web_routes) first")
    app[CALLS_KEY] = calls
    r = app.router
    for control in ("hold", "resume", "hangup", "transfer"):
        r.add_post(f"/web/calls/{{call_id}}/{control}", _control)
    r.add_post("/web/calls/{call_id}/consult", _consult)
    r.add_post("/web/calls/{call_id}/consult/complete", _consult)
    r.add_post("/web/calls/{call_id}/consult/cancel", _consult)
    r.add_post("/web/calls/{call_id}/wrapup-time", _wrap_up_time)


def _answer(request: web.Request, agent_id: str, call_id: str, **extra: Any) -> web.Response:
    return web.json_response({"call_id": call_id, **extra, "agent": agent_json(request, agent_id)})


async def _control(request: web.Request) -> web.Response:
    _, agent_id, call_id = await own_call(request)
    body = await json_body(request)
    calls = request.app[CALLS_KEY]
    control = request.path.rsplit("/", 1)[-1]
    try:
        if control == "hold":
            await calls.hold(agent_id, call_id)
        elif control == "resume":
            await calls.resume(agent_id, call_id)
        elif control == "hangup":
            await calls.hang_up(agent_id, call_id)
        else:
            queue = text_field(body, "queue", max_length=64, required=False) or None
            to_agent = text_field(body, "agent", max_length=64, required=False) or None
            if (queue is None) == (to_agent is None):
                raise refuse(400, "name either 'queue' or 'agent' to transfer to")
            redirect = await calls.transfer(agent_id, call_id, queue=queue, to_agent=to_agent)
            at = datetime.fromtimestamp(request.app[CLOCK_KEY](), UTC)
            try:
                await record_transfer_step(request.app[WEB_KEY].database, call_id, redirect, at)
            except SQLAlchemyError as exc:  # the transfer is done; only its step in the path is lost
                log.warning(fields("web.transfer_step_failed", call=call_id, error=str(exc)))
            return _answer(request, agent_id, call_id, transferred_to=redirect.target())
    except UnknownTarget as exc:
        raise refuse(404, str(exc)) from None
    except NotOnThisCall as exc:
        raise refuse(409, str(exc)) from None
    except ControlRefused as exc:
        raise refuse(409, str(exc)) from None
    return _answer(request, agent_id, call_id, held=calls.held(call_id))


async def _consult(request: web.Request) -> web.Response:
    _, agent_id, call_id = await own_call(request)
    body = await json_body(request)
    calls = request.app[CALLS_KEY]
    action = request.path.rsplit("/", 1)[-1]
    extra: dict[str, Any] = {}
    try:
        if action == "consult":
            target = text_field(body, "agent", max_length=64, required=False)
            if not target:
                raise refuse(400, "name the 'agent' to consult")
            await calls.consult(agent_id, call_id, target)
        elif action == "complete":

            async def step(target: str) -> None:  # before the target's screen-pop is built
                at = datetime.fromtimestamp(request.app[CLOCK_KEY](), UTC)
                try:
                    await record_desk_step(request.app[WEB_KEY].database, call_id, "consult transfer",
                                           f"agent {target}", agent_id, at)
                except SQLAlchemyError as exc:  # the handover is done; only its step in the path is lost
                    log.warning(fields("web.transfer_step_failed", call=call_id, error=str(exc)))

            target = await calls.complete_consult(agent_id, call_id, handed=step)
            extra["transferred_to"] = f"agent {target}"
        else:
            await calls.cancel_consult(agent_id, call_id)
    except UnknownTarget as exc:
        raise refuse(404, str(exc)) from None
    except ControlRefused as exc:
        raise refuse(409, str(exc)) from None
    consult = calls.consulting(call_id)
    state = None if consult is None else {"target": consult.target, "state": consult.state}
    return _answer(request, agent_id, call_id, consult=state, held=calls.held(call_id), **extra)


async def _wrap_up_time(request: web.Request) -> web.Response:
    _, agent_id, call_id = await own_call(request)
    body = await json_body(request)
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) \
            or not 1 <= float(seconds) <= MAX_WRAP_UP_LEFT:
        raise refuse(400, f"'seconds' must be a number from 1 to {MAX_WRAP_UP_LEFT:.0f}")
    left = await request.app[CALLS_KEY].extend_wrap_up(agent_id, float(seconds))
    return _answer(request, agent_id, call_id, wrap_up_left=round(left, 3))


async def record_transfer_step(database: Database, call_id: str, redirect: Redirect, at: datetime) -> None:
    """Add the desk's blind transfer to the call's node path (``record_desk_step``, node ``transfer``)."""
    target = f"agent {redirect.agent_id}" if redirect.agent_id else redirect.queue
    await record_desk_step(database, call_id, "transfer", target, redirect.by_agent, at)


async def record_desk_step(database: Database, call_id: str, node: str, target: str, by_agent: str,
                           at: datetime) -> None:
    """Add a desk step (flow ``desk``, ``node``, input ``target``, outcome ``by agent ...``) to the
    call's node path, numbered as the node the call is in (the ``transfer`` node that queued it), so it
    sorts just before that node's own step."""

    def work(session: Session) -> None:
        seq = session.scalars(select(NodeEntryRow.seq).where(NodeEntryRow.call_id == call_id)).first()
        if seq is None:
            seq = session.scalars(select(NodeEventRow.seq).where(NodeEventRow.call_id == call_id)
                                  .order_by(NodeEventRow.seq.desc()).limit(1)).first() or 0
        session.add(NodeEventRow(
            call_id=call_id, seq=seq, flow=DESK_FLOW, node=node, node_type="transfer",
            entered=at, left=at, input=target, outcome=f"by agent {by_agent}",
        ))  # fmt: skip

    await database.run(work)
