"""The work-order routes of the agent desktop, mounted on the control app after the web routes.

==============================================  ===========================================================
``GET  /web/workorders/options``                types, departments and urgencies the form offers (signed in)
``POST /web/calls/{call_id}/workorders``        ``{"type", "urgency", "description", "department"?}``: log an
                                                order from a call the agent answered (customer and number
                                                from the call); 201 with the order
``POST /web/workorders/{serial}/visit``         ``{"outcome": "satisfied"|"unsatisfied"|"unreached",
                                                "note"?}``: the agent placing the order's return visit (their
                                                latest screen-pop is that visit) records its outcome; 200
                                                with the order
==============================================  ===========================================================
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from ivr_engine.control.app import CLOCK_KEY, SCREENPOPS_KEY
from ivr_engine.logs import fields
from ivr_engine.web.context import WEB_KEY, json_body, refuse, require_user, text_field
from ivr_engine.web.ownership import own_call
from ivr_engine.web.users import Role
from ivr_engine.workorders import store
from ivr_engine.workorders.errors import WorkOrderError
from ivr_engine.workorders.model import NewOrder, Urgency, VisitOutcome
from ivr_engine.workorders.policy import WorkOrderPolicy

__all__ = ["POLICY_KEY", "add_work_order_routes"]

log = logging.getLogger(__name__)

POLICY_KEY = web.AppKey("workorders.policy", WorkOrderPolicy)
_MAX_DESCRIPTION = 2000


def add_work_order_routes(app: web.Application, policy: WorkOrderPolicy) -> None:
    """Needs the web routes (``add_web_routes``) on ``app`` first."""
    if WEB_KEY not in app:
        raise ValueError("add_work_order_routes needs the web routes (add_web_routes) first")
    app[POLICY_KEY] = policy
    app.router.add_get("/web/workorders/options", _options)
    app.router.add_post("/web/calls/{call_id}/workorders", _create)
    app.router.add_post("/web/workorders/{serial}/visit", _visit)


async def _options(request: web.Request) -> web.Response:
    require_user(request)
    policy = request.app[POLICY_KEY]
    return web.json_response({"types": list(policy.types), "departments": list(policy.departments),
                              "urgencies": [u.value for u in Urgency], "default_urgency": "normal"})


async def _create(request: web.Request) -> web.Response:
    user, agent_id, call_id = await own_call(request)
    body = await json_body(request)
    policy = request.app[POLICY_KEY]
    urgency = text_field(body, "urgency", max_length=16, required=False) or Urgency.NORMAL.value
    if urgency not in {u.value for u in Urgency}:
        raise refuse(400, f"unknown urgency {urgency!r}; one of: {', '.join(u.value for u in Urgency)}")
    department = text_field(body, "department", max_length=64, required=False) or None
    pop = request.app[SCREENPOPS_KEY].latest(agent_id)
    on_screen = pop is not None and pop.call_id == call_id  # else the call's row gives the number
    new = NewOrder(kind=text_field(body, "type", max_length=64),
                   description=text_field(body, "description", max_length=_MAX_DESCRIPTION),
                   by=user.name, urgency=Urgency(urgency), call_id=call_id, department=department,
                   phone=pop.caller if pop is not None and on_screen else "",
                   customer_id=pop.customer.customer_id if pop is not None and on_screen else None)
    ctx = request.app[WEB_KEY]
    now = datetime.fromtimestamp(request.app[CLOCK_KEY](), UTC)
    try:
        order = await ctx.database.run(lambda s: store.create_order(s, policy, new, now, ctx.centre.zone))
    except WorkOrderError as exc:
        raise refuse(400, str(exc)) from None
    except SQLAlchemyError as exc:
        raise refuse(503, f"the work order could not be stored ({type(exc).__name__}); try again") from None
    log.info(fields("workorder.created", serial=order.serial, agent=agent_id,
                    call=call_id, type=order.kind))
    return web.json_response(order.to_json(now), status=201)


async def _visit(request: web.Request) -> web.Response:
    user = require_user(request, Role.AGENT)
    assert user.agent_id is not None  # an agent user always has one
    serial = request.match_info["serial"].strip().upper()
    pop = request.app[SCREENPOPS_KEY].latest(user.agent_id)
    if pop is None or pop.visit is None or pop.visit.serial != serial:
        raise refuse(403, f"agent {user.agent_id} is not placing the return visit of {serial}")
    body = await json_body(request)
    outcome = text_field(body, "outcome", max_length=16)
    if outcome not in {o.value for o in VisitOutcome}:
        raise refuse(400, f"unknown outcome {outcome!r}; one of: {', '.join(o.value for o in VisitOutcome)}")
    note = text_field(body, "note", max_length=_MAX_DESCRIPTION, required=False)
    ctx = request.app[WEB_KEY]
    now = datetime.fromtimestamp(request.app[CLOCK_KEY](), UTC)
    try:
        order = await ctx.database.run(
            lambda s: store.record_visit(s, serial, VisitOutcome(outcome), note, user.name, now))
    except WorkOrderError as exc:
        raise refuse(409, str(exc)) from None
    except SQLAlchemyError as exc:
        raise refuse(503, f"the outcome could not be stored ({type(exc).__name__}); try again") from None
    log.info(fields("workorder.visited", serial=order.serial, agent=user.agent_id, outcome=outcome))
    return web.json_response(order.to_json(now))
