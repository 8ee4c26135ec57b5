"""Build a :class:`ScreenPop` from storage in one transaction (run it through ``Database.run``).

An unknown caller gets a customer row of their own, without a name (the number as its phone), so an
agent can fill in the record and the number's later calls find it. Until it has a name the caller is
shown as new (``known`` False), and the IVR does not greet them by name (see ``storage.lookups``). A
withheld number creates nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from acd.model import callback_of
from acd.records.rows import QueueCallRow
from ivr_engine.screenpop.model import (
    AccountSummary,
    CustomerCard,
    OrderSummary,
    PastCall,
    PathEntry,
    ScreenPop,
    VisitCard,
    WorkOrderSummary,
)
from ivr_engine.storage.lookups import has_name, normalise_phone
from ivr_engine.storage.models import Account, Call, Customer, CustomerPhone, LoyaltyMember, Order
from ivr_engine.storage.queries import call_detail

__all__ = ["Answered", "OpenWorkOrders", "ReturnVisits", "build_screen_pop", "last_answered"]

OpenWorkOrders = Callable[[Session, int, datetime], tuple[WorkOrderSummary, ...]]
"""A customer's open work orders (customer id, now), newest first."""

ReturnVisits = Callable[[Session, str], tuple[VisitCard, str | None] | None]
"""The work order's return visit a callback's booked-on id names (``visit:<serial>``), if it is one: its
card and the call the order was logged from."""


@dataclass(frozen=True)
class Answered:
    """An agent answered a call: what a screen-pop is built for."""

    call_id: str
    agent_id: str
    caller: str
    queue: str | None
    at: datetime


def last_answered(session: Session, since: datetime) -> list[Answered]:
    """Each agent's latest call answered at or after ``since``, from the stored queue facts."""
    latest = (
        select(QueueCallRow.agent_id, func.max(QueueCallRow.answered).label("at"))
        .where(QueueCallRow.answered >= since, QueueCallRow.agent_id.is_not(None))
        .group_by(QueueCallRow.agent_id)
        .subquery()
    )
    rows = session.scalars(
        select(QueueCallRow)
        .join(latest, (QueueCallRow.agent_id == latest.c.agent_id) & (QueueCallRow.answered == latest.c.at))
        .order_by(QueueCallRow.agent_id, QueueCallRow.id.desc())
    ).all()
    found: dict[str, Answered] = {}
    for row in rows:
        if row.agent_id is not None and row.answered is not None and row.agent_id not in found:
            found[row.agent_id] = Answered(row.call_id, row.agent_id, row.caller, row.queue, row.answered)
    return list(found.values())


def build_screen_pop(session: Session, answered: Answered, *, history: int = 5,
                     work_orders: OpenWorkOrders | None = None,
                     visits: ReturnVisits | None = None) -> ScreenPop:
    """The screen-pop for ``answered``, with at most ``history`` earlier calls, newest first, and the
    customer's open ``work_orders`` (the work-order domain's query, given by the service); ``visits``
    tells a work order's return visit from a callback (the work-order domain's, given by the service)."""
    phone = normalise_phone(answered.caller)
    customer = _find_or_create(session, phone)
    if customer.customer_id is not None and work_orders is not None:
        customer = replace(customer, work_orders=work_orders(session, customer.customer_id, answered.at))
    booked_on = callback_of(answered.call_id)  # a callback: the call the caller booked it on
    call_id = booked_on or answered.call_id
    reason = "" if booked_on is None else "callback"
    found = None if booked_on is None or visits is None else visits(session, booked_on)
    visit = None
    if found is not None:  # a work order's return visit: the order's own call, if it was logged from one
        visit, logged_on = found
        reason, call_id = "return visit", logged_on or call_id
    detail = call_detail(session, call_id)
    path = () if detail is None else tuple(
        PathEntry(s.seq, s.flow, s.node, s.node_type, s.input, s.outcome, s.entered, s.seconds)
        for s in detail.path
    )
    return ScreenPop(
        call_id=call_id,
        agent_id=answered.agent_id,
        caller=answered.caller,
        queue=answered.queue,
        answered_at=answered.at,
        customer=customer,
        path=path,
        last_calls=_last_calls(session, customer, answered, history),
        reason=reason,
        visit=visit,
    )


def _find_or_create(session: Session, phone: str) -> CustomerCard:
    if not phone:
        return CustomerCard(customer_id=None, name="", phone="", known=False)
    customer = _by_phone(session, phone)
    if customer is not None:
        return _card(session, customer, phone)
    try:
        with session.begin_nested():  # two calls from the same new number: the second one re-reads
            customer = Customer(name="", vip_level=0)
            session.add(customer)
            session.flush()
            session.add(CustomerPhone(customer_id=customer.id, number=phone))
            session.flush()
    except IntegrityError:
        found = _by_phone(session, phone)
        if found is None:
            raise
        return _card(session, found, phone)
    return CustomerCard(customer_id=customer.id, name="", phone=phone, known=False)


def _by_phone(session: Session, phone: str) -> Customer | None:
    return session.scalar(
        select(Customer).join(CustomerPhone).where(CustomerPhone.number == phone).limit(1)
    )


def _card(session: Session, customer: Customer, phone: str) -> CustomerCard:
    accounts = session.execute(
        select(Account.number, Account.balance)
        .where(Account.customer_id == customer.id)
        .order_by(Account.number)
    ).all()
    orders = session.scalars(
        select(Order).where(Order.customer_id == customer.id).order_by(Order.number)
    ).all()
    cards, points = session.execute(
        select(func.count(LoyaltyMember.id), func.coalesce(func.sum(LoyaltyMember.points), 0)).where(
            LoyaltyMember.customer_id == customer.id
        )
    ).one()
    known = has_name(customer.name)
    return CustomerCard(
        customer_id=customer.id,
        name=customer.name if known else "",
        phone=phone,
        known=known,
        vip_level=customer.vip_level,
        accounts=tuple(AccountSummary(number, _money(balance)) for number, balance in accounts),
        orders=tuple(
            OrderSummary(
                o.number, o.status, o.expected_delivery.isoformat() if o.expected_delivery else None
            )
            for o in orders
        ),
        points=int(points) if cards else None,
    )


def _last_calls(
    session: Session, customer: CustomerCard, answered: Answered, limit: int
) -> tuple[PastCall, ...]:
    numbers = {answered.caller}
    if customer.phone:
        numbers.add(customer.phone)
    if customer.customer_id is not None:
        numbers.update(
            session.scalars(
                select(CustomerPhone.number).where(CustomerPhone.customer_id == customer.customer_id)
            ).all()
        )
    numbers.discard("")
    if not numbers or limit <= 0:
        return ()
    calls = session.scalars(
        select(Call)
        .where(Call.caller.in_(sorted(numbers)), Call.id != answered.call_id)
        .order_by(Call.started.desc(), Call.id)
        .limit(limit)
    ).all()
    return tuple(
        PastCall(
            call_id=c.id,
            started=c.started,
            dialled=c.dialled,
            disposition=c.disposition,
            seconds=None if c.ended is None else (c.ended - c.started).total_seconds(),
        )
        for c in calls
    )


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))
