"""Deterministic demo data for the lab, the simulator and the tests; ``seed`` is idempotent.

Every row is keyed by a natural key (phone number, account, order or card number): re-seeding leaves
existing rows alone and adds only what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr_engine.storage.models import Account, Customer, CustomerPhone, LoyaltyMember, Order
from ivr_engine.storage.pins import Pins

__all__ = ["DEMO_CUSTOMERS", "DemoAccount", "DemoCustomer", "DemoOrder", "SeedReport", "seed"]


@dataclass(frozen=True)
class DemoAccount:
    number: str
    pin: str
    balance: Decimal


@dataclass(frozen=True)
class DemoOrder:
    number: str
    status: str
    expected_delivery: date | None


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    vip_level: int
    phones: tuple[str, ...]
    accounts: tuple[DemoAccount, ...] = ()
    orders: tuple[DemoOrder, ...] = ()
    cards: tuple[tuple[str, int], ...] = ()  # (card number, points)


DEMO_CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer(
        "Alice Chen",
        vip_level=2,
        phones=("15550001001", "15550001011"),
        accounts=(DemoAccount("100200", "4321", Decimal("1234.56")),),
        orders=(
            DemoOrder("A1001", "shipped", date(2026, 12, 1)),
            DemoOrder("A1004", "delivered", date(2026, 11, 2)),
        ),
        cards=(("88001234", 4520),),
    ),
    DemoCustomer(
        "Bob Martin",
        vip_level=0,
        phones=("15550001002",),
        accounts=(DemoAccount("100300", "1111", Decimal("87.10")),),
        orders=(DemoOrder("A1002", "processing", date(2026, 12, 10)),),
        cards=(("88005678", 120),),
    ),
    DemoCustomer(
        "Carmen Ruiz",
        vip_level=1,
        phones=("15550001003",),
        accounts=(DemoAccount("100400", "2468", Decimal("0.00")),),
        orders=(DemoOrder("A1003", "cancelled", None),),
        cards=(("88009012", 98000),),
    ),
    DemoCustomer(
        "Deepak Rao",
        vip_level=0,
        phones=("15550001004",),
        orders=(DemoOrder("A1005", "out_for_delivery", date(2026, 11, 26)),),
    ),
    DemoCustomer("Emma Novak", vip_level=0, phones=("15550001005",), cards=(("88003456", 0),)),
)


@dataclass(frozen=True)
class SeedReport:
    """How many rows of each kind ``seed`` added (all zero on a re-run)."""

    customers: int = 0
    phones: int = 0
    accounts: int = 0
    orders: int = 0
    cards: int = 0

    @property
    def total(self) -> int:
        return self.customers + self.phones + self.accounts + self.orders + self.cards


def seed(session: Session, pins: Pins, customers: tuple[DemoCustomer, ...] = DEMO_CUSTOMERS) -> SeedReport:
    """Insert what is missing of ``customers``; existing rows (by natural key) are left untouched.

    PINs are hashed with ``pins`` (the installation's PIN key: the one the service checks them with).
    """
    added = {"customers": 0, "phones": 0, "accounts": 0, "orders": 0, "cards": 0}
    for demo in customers:
        customer = _find_customer(session, demo)
        if customer is None:
            customer = Customer(name=demo.name, vip_level=demo.vip_level)
            session.add(customer)
            session.flush()
            added["customers"] += 1
        for number in demo.phones:
            if session.scalar(select(CustomerPhone.id).where(CustomerPhone.number == number)) is None:
                session.add(CustomerPhone(customer_id=customer.id, number=number))
                added["phones"] += 1
        for account in demo.accounts:
            if session.scalar(select(Account.id).where(Account.number == account.number)) is None:
                session.add(
                    Account(
                        number=account.number,
                        customer_id=customer.id,
                        pin_hash=pins.hash(account.pin),
                        balance=account.balance,
                    )
                )
                added["accounts"] += 1
        for order in demo.orders:
            if session.scalar(select(Order.id).where(Order.number == order.number)) is None:
                session.add(
                    Order(
                        number=order.number,
                        customer_id=customer.id,
                        status=order.status,
                        expected_delivery=order.expected_delivery,
                    )
                )
                added["orders"] += 1
        for card, points in demo.cards:
            if session.scalar(select(LoyaltyMember.id).where(LoyaltyMember.card_number == card)) is None:
                session.add(LoyaltyMember(card_number=card, customer_id=customer.id, points=points))
                added["cards"] += 1
    session.flush()
    return SeedReport(**added)


def _find_customer(session: Session, demo: DemoCustomer) -> Customer | None:
    """A demo customer is identified by any of its phone numbers (names need not be unique)."""
    return session.scalar(
        select(Customer).join(CustomerPhone).where(CustomerPhone.number.in_(demo.phones)).limit(1)
    )
