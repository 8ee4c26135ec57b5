"""``ivr ticket``: work orders (工单) from the command line: log, list, show, dispatch, comment, close,
and record the return visit. Rules and types: ``workorders.yaml`` (setting ``workorders_file``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TypeVar

import click
from sqlalchemy.orm import Session

from ivr_engine.commands.tables import print_table
from ivr_engine.commands.units import by_option, centre_now, local_minute, run_unit
from ivr_engine.config import Settings
from ivr_engine.workorders import store
from ivr_engine.workorders.errors import WorkOrderError
from ivr_engine.workorders.model import HistoryEntry, NewOrder, OrderState, Urgency, VisitOutcome, WorkOrder
from ivr_engine.workorders.policy import WorkOrderPolicy, load_policy

__all__ = ["ticket_group"]

T = TypeVar("T")

_BY = by_option("Who does it (kept in the order's history).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@dataclass(frozen=True)
class _Context:
    settings: Settings
    policy: WorkOrderPolicy
    now: datetime
    zone: tzinfo


@click.group("ticket")
def ticket_group() -> None:
    """Work orders: log, list, show, assign, comment, close, return visit."""


@ticket_group.command("create")
@click.option("--type", "kind", required=True, help="One of workorders.yaml's types (e.g. complaint).")
@click.option("--description", required=True, help="What the customer asks for.")
@click.option("--phone", default="", help="The customer's number (finds the customer record).")
@click.option("--customer", "customer_id", type=int, default=None, help="The customer's id instead.")
@click.option("--urgency", type=click.Choice([u.value for u in Urgency]), default="normal",
              show_default=True)
@click.option("--call", "call_id", default=None, help="The call it came from (see `ivr calls list`).")
@click.option("--department", default=None, help="Dispatch at once to this department.")
@click.option("--handler", default=None, help="...and to this person in it.")
@_BY
@_JSON
@click.pass_obj
def create_command(settings: Settings, kind: str, description: str, phone: str, customer_id: int | None,
                   urgency: str, call_id: str | None, department: str | None, handler: str | None,
                   by: str, as_json: bool) -> None:
    """Log a new work order; prints its serial number (WO-YYYYMMDD-NNNN)."""
    context = _context(settings)
    new = NewOrder(kind=kind, description=description, by=by, urgency=Urgency(urgency), phone=phone,
                   customer_id=customer_id, call_id=call_id, department=department, handler=handler)
    order = _run(context, lambda s: store.create_order(s, context.policy, new, context.now, context.zone))
    _print_order(context, order, [], as_json, headline="created")


@ticket_group.command("list")
@click.option("--state", type=click.Choice([s.value for s in OrderState]), default=None)
@click.option("--overdue", is_flag=True, help="Only orders past their current step's deadline.")
@click.option("--visits-due", is_flag=True, help="Only closed orders whose return visit is due.")
@click.option("--type", "kind", default=None)
@click.option("--department", default=None)
@click.option("--customer", "customer_id", type=int, default=None)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1, max=10_000))
@_JSON
@click.pass_obj
def list_command(settings: Settings, state: str | None, overdue: bool, visits_due: bool, kind: str | None,
                 department: str | None, customer_id: int | None, limit: int, as_json: bool) -> None:
    """Work orders, newest first; overdue ones are marked."""
    context = _context(settings)
    which = store.OrderFilter(state=OrderState(state) if state else None, overdue=overdue,
                              visits_due=visits_due, kind=kind, department=department,
                              customer_id=customer_id, limit=limit)
    orders = _run(context, lambda s: store.list_orders(s, which, context.now))
    if as_json:
        click.echo(json.dumps([o.to_json(context.now) for o in orders], indent=2))
        return
    if not orders:
        click.echo("no work orders")
        return
    rows = [[o.serial, o.kind, o.urgency.value, o.state.value, _customer(o), o.department or "-",
             o.handler or "-", _time(o.deadline, context.zone) if o.state is not OrderState.CLOSED else "-",
             _flags(o, context.now)] for o in orders]
    print_table(["SERIAL", "TYPE", "URGENCY", "STATE", "CUSTOMER", "DEPARTMENT", "HANDLER", "DUE", "FLAGS"],
                rows)


@ticket_group.command("show")
@click.argument("serial")
@_JSON
@click.pass_obj
def show_command(settings: Settings, serial: str, as_json: bool) -> None:
    """One work order with its whole history (who, when, what)."""
    context = _context(settings)
    order, history = _run(context, lambda s: store.show_order(s, serial))
    _print_order(context, order, history, as_json)


@ticket_group.command("assign")
@click.argument("serial")
@click.option("--department", required=True)
@click.option("--handler", default=None)
@_BY
@_JSON
@click.pass_obj
def assign_command(settings: Settings, serial: str, department: str, handler: str | None, by: str,
                   as_json: bool) -> None:
    """Dispatch an order to a department (and handler), or reassign it; its deadline starts again."""
    context = _context(settings)
    order = _run(context, lambda s: store.assign_order(s, context.policy, serial, department, handler, by,
                                                       context.now))
    _print_order(context, order, [], as_json, headline="assigned")


@ticket_group.command("comment")
@click.argument("serial")
@click.argument("text")
@_BY
@_JSON
@click.pass_obj
def comment_command(settings: Settings, serial: str, text: str, by: str, as_json: bool) -> None:
    """Add a comment to an order's history."""
    context = _context(settings)
    order = _run(context, lambda s: store.comment_order(s, serial, text, by, context.now))
    _print_order(context, order, [], as_json, headline="commented")


@ticket_group.command("close")
@click.argument("serial")
@click.option("--resolution", required=True, help="How it was resolved (required).")
@_BY
@_JSON
@click.pass_obj
def close_command(settings: Settings, serial: str, resolution: str, by: str, as_json: bool) -> None:
    """Close an order with its resolution; its return visit becomes due later (see --visits-due).

    The return visit is booked as a callback to the order's number (`ivr callbacks list`: CALL
    visit:SERIAL), due return_visit_after_hours later (workorders.yaml), in return_visit_queue or the
    queue the order's call waited in: `ivr serve` rings an agent, then the customer; the agent records
    the outcome from the desk or with `ivr ticket visit`. Given up unanswered: outcome unreached."""
    context = _context(settings)
    order = _run(context, lambda s: store.close_order(s, context.policy, serial, resolution, by,
                                                      context.now))
    _print_order(context, order, [], as_json, headline="closed")


@ticket_group.command("visit")
@click.argument("serial")
@click.option("--outcome", required=True, type=click.Choice([v.value for v in VisitOutcome]))
@click.option("--note", default="", help="What the customer said.")
@_BY
@_JSON
@click.pass_obj
def visit_command(settings: Settings, serial: str, outcome: str, note: str, by: str, as_json: bool) -> None:
    """Record the return visit of a closed order: was the customer satisfied?

    Outcomes: satisfied, unsatisfied (not satisfied), unreached (unreachable). Recorded before its
    callback was placed, the visit's callback is cancelled."""
    context = _context(settings)
    order = _run(context, lambda s: store.record_visit(s, serial, VisitOutcome(outcome), note, by,
                                                       context.now))
    _print_order(context, order, [], as_json, headline="return visit recorded")


# -- helpers ----------------------------------------------------------------------------------------


def _context(settings: Settings) -> _Context:
    try:
        policy = load_policy(settings.workorders_file)
    except WorkOrderError as exc:
        raise click.ClickException(str(exc)) from exc
    centre = centre_now(settings)
    return _Context(settings, policy, centre.now, centre.zone)


def _run(context: _Context, work: Callable[[Session], T]) -> T:
    return run_unit(context.settings, work, what="the work orders")


def _time(value: datetime | None, zone: tzinfo) -> str:
    return local_minute(value, zone) if value is not None else "-"


def _customer(order: WorkOrder) -> str:
    if order.customer_name:
        return order.customer_name
    return order.phone or (f"#{order.customer_id}" if order.customer_id is not None else "-")


def _flags(order: WorkOrder, now: datetime) -> str:
    flags = []
    if order.overdue(now):
        flags.append("OVERDUE")
    if order.repeat_of:
        flags.append(f"repeat of {order.repeat_of}")
    if order.state is OrderState.CLOSED and order.visit_outcome is None and order.visit_due is not None:
        flags.append("visit due" if order.visit_due <= now else "visit later")
    if order.visit_outcome is not None:
        flags.append(order.visit_outcome.value)
    return ", ".join(flags)


def _history_json(entry: HistoryEntry) -> dict[str, object]:
    return {"at": entry.at.isoformat(), "by": entry.by, "action": entry.action.value, "detail": entry.detail}


def _print_order(context: _Context, order: WorkOrder, history: list[HistoryEntry], as_json: bool,
                 headline: str = "") -> None:
    if as_json:
        data = order.to_json(context.now)
        if history:
            data["history"] = [_history_json(h) for h in history]
        click.echo(json.dumps(data, indent=2))
        return
    zone = context.zone
    if headline:
        click.echo(f"{headline} {order.serial}")
    click.echo(f"{order.serial}: {order.kind}, {order.urgency.value}, {order.state.value}"
               + (f" [{_flags(order, context.now)}]" if _flags(order, context.now) else ""))
    click.echo(f"customer: {_customer(order)}" + (f" (call {order.call_id})" if order.call_id else ""))
    click.echo(f"department: {order.department or '-'}, handler: {order.handler or '-'}")
    step = f"closed {_time(order.closed, zone)}" if order.closed else f"due {_time(order.deadline, zone)}"
    click.echo(f"created {_time(order.created, zone)} by {order.created_by}; {step}")
    click.echo(f"description: {order.description}")
    if order.resolution:
        click.echo(f"resolution: {order.resolution}")
    if order.visit_due is not None:
        click.echo(f"return visit: {order.visit_outcome.value if order.visit_outcome else 'due'} "
                   f"{_time(order.visit_at or order.visit_due, zone)}")
    if history:
        click.echo("")
        print_table(["WHEN", "BY", "ACTION", "DETAIL"],
                    [[_time(h.at, zone), h.by, h.action.value, h.detail] for h in history])
