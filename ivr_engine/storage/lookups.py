"""The named, parameterised queries flows call from ``lookup`` nodes (``Lookups`` port over SQL).

Each lookup takes string parameters and answers string values. Database trouble never raises: the
answer is status ``error`` with a message, and the next call reconnects (``pool_pre_ping``). Nor does a
PIN key problem (``PinKeyError``): ``error``, logged with the key file's name, never the PIN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ivr_engine.flow.ports import LookupResult, LookupStatus
from ivr_engine.numbers import digits_of
from ivr_engine.storage.database import Database, describe_error
from ivr_engine.storage.models import Account, Customer, CustomerPhone, LoyaltyMember, Order
from ivr_engine.storage.pins import PinKeyError, Pins

__all__ = ["LOOKUPS", "LookupContext", "LookupSpec", "SqlLookups", "has_name", "normalise_phone"]

log = logging.getLogger(__name__)

NOT_FOUND = LookupResult(LookupStatus.NOT_FOUND)


def normalise_phone(phone: str) -> str:
    """Digits only: ``+1 (555) 000-1001`` and ``15550001001`` are the same caller (``numbers.digits_of``)."""
    return digits_of(phone)


def has_name(name: str) -> bool:
    """Whether a customer has a name on record: unknown callers are kept as customers without one."""
    return bool(name.strip())


def _is_text(value: str) -> bool:
    """Whether every database can hold ``value`` (no NUL, no lone surrogates from a JSON escape)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\0" not in value


def _found(**values: str) -> LookupResult:
    return LookupResult(LookupStatus.FOUND, values)


@dataclass
class LookupContext:
    """What a query may need besides the database: the PIN checker, and the PIN hashes of an older form
    to replace after the lookup (account id, stored hash, new hash), in a transaction of their own."""

    pins: Pins
    rehashed: list[tuple[int, str, str]] = field(default_factory=list)


def _customer_by_phone(session: Session, params: Mapping[str, str], _: LookupContext) -> LookupResult:
    phone = normalise_phone(params["phone"])
    if not phone:
        return NOT_FOUND
    customer = session.scalar(
        select(Customer).join(CustomerPhone).where(CustomerPhone.number == phone).limit(1)
    )
    if customer is None or not has_name(customer.name):  # a nameless row is a caller we do not know yet
        return NOT_FOUND
    return _found(
        customer_id=str(customer.id),
        customer_name=customer.name,
        vip="1" if customer.vip_level > 0 else "0",
    )


def _account_auth(session: Session, params: Mapping[str, str], context: LookupContext) -> LookupResult:
    """Unknown account and wrong PIN give the same answer in about the same time."""
    pin = params["pin"]
    account = session.scalar(select(Account).where(Account.number == params["account"]))
    if account is None:
        context.pins.check_nothing(pin)
        return NOT_FOUND
    check = context.pins.check(pin, account.pin_hash)
    if not check.matched:
        return NOT_FOUND
    if check.rehashed is not None:
        context.rehashed.append((account.id, account.pin_hash, check.rehashed))
    return _found(account=account.number, balance=_money(account.balance))


def _order_status(session: Session, params: Mapping[str, str], _: LookupContext) -> LookupResult:
    order = session.scalar(select(Order).where(Order.number == params["order"].strip().upper()))
    if order is None:
        return NOT_FOUND
    delivery = order.expected_delivery.isoformat() if order.expected_delivery else ""
    return _found(order_status=order.status, expected_delivery=delivery)


def _member_points(session: Session, params: Mapping[str, str], _: LookupContext) -> LookupResult:
    row = session.execute(
        select(LoyaltyMember.points, Customer.name)
        .join(Customer, Customer.id == LoyaltyMember.customer_id)
        .where(LoyaltyMember.card_number == params["card"])
    ).first()
    if row is None:
        return NOT_FOUND
    return _found(points=str(row.points), member_name=row.name)


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


@dataclass(frozen=True)
class LookupSpec:
    """A named query: the parameters it needs, the values it answers, and the query itself."""

    name: str
    params: tuple[str, ...]
    values: tuple[str, ...]
    query: Callable[[Session, Mapping[str, str], LookupContext], LookupResult]


LOOKUPS: Mapping[str, LookupSpec] = {
    spec.name: spec
    for spec in (
        LookupSpec(
            "customer_by_phone", ("phone",), ("customer_id", "customer_name", "vip"), _customer_by_phone
        ),
        LookupSpec("account_auth", ("account", "pin"), ("account", "balance"), _account_auth),
        LookupSpec("order_status", ("order",), ("order_status", "expected_delivery"), _order_status),
        LookupSpec("member_points", ("card",), ("points", "member_name"), _member_points),
    )
}


class SqlLookups:
    """``Lookups`` over the database; each query runs in a worker thread.

    A PIN stored in an older form is replaced by its current form after a successful check (not on a
    read-only database); failing to store it only costs the next check the older form's time.
    """

    def __init__(self, database: Database, pins: Pins) -> None:
        self._database = database
        self.pins = pins

    def names(self) -> frozenset[str]:
        return frozenset(LOOKUPS)

    async def run(self, name: str, params: Mapping[str, str]) -> LookupResult:
        spec = LOOKUPS.get(name)
        if spec is None:
            return LookupResult(LookupStatus.ERROR, error=f"unknown lookup {name!r}")
        missing = [p for p in spec.params if p not in params]
        if missing:
            return LookupResult(
                LookupStatus.ERROR, error=f"lookup {name!r} needs parameter(s): {', '.join(missing)}"
            )
        wanted = {p: params[p] for p in spec.params}
        if not all(_is_text(value) for value in wanted.values()):
            return NOT_FOUND  # no row can hold such a value; asking the database would only fail
        context = LookupContext(self.pins)
        try:
            result = await self._database.run(lambda session: spec.query(session, wanted, context))
        except SQLAlchemyError as exc:
            log.warning("lookup %s failed: %s", name, describe_error(exc))
            return LookupResult(LookupStatus.ERROR, error=f"database unavailable: {describe_error(exc)}")
        except PinKeyError as exc:
            log.error("lookup %s failed: %s", name, exc)
            return LookupResult(LookupStatus.ERROR, error=f"PIN key: {exc}")
        if context.rehashed and not self._database.read_only:
            await self._store_rehashed(context.rehashed)
        return result

    async def _store_rehashed(self, rehashed: list[tuple[int, str, str]]) -> None:
        def store(session: Session) -> None:
            for account_id, old, new in rehashed:  # only if unchanged meanwhile (a new PIN set, say)
                unchanged = (Account.id == account_id) & (Account.pin_hash == old)
                session.execute(update(Account).where(unchanged).values(pin_hash=new))

        try:
            await self._database.run(store)
        except SQLAlchemyError as exc:
            log.warning("PIN hash upgrade not stored (the next check retries): %s", describe_error(exc))
