"""Demo data and the named lookups, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from ivr_engine.config import Settings
from ivr_engine.flow.ports import LookupResult, LookupStatus
from ivr_engine.storage import Database, open_stores
from ivr_engine.storage.migrate import upgrade
from ivr_engine.storage.models import Account, Customer, CustomerPhone, LoyaltyMember, Order
from ivr_engine.storage.pins import Pins
from ivr_engine.storage.seed import SeedReport, seed

COUNTED = (Customer, CustomerPhone, Account, Order, LoyaltyMember)


def _counts(database: Database) -> list[int]:
    return [
        database.call(lambda s, m=model: s.scalar(select(func.count()).select_from(m))) for model in COUNTED
    ]


def test_seed_is_idempotent(migrated_settings: Settings, pins: Pins) -> None:
    database = Database(migrated_settings.db_url)
    try:
        first = database.call(lambda session: seed(session, pins))
        after_first = _counts(database)
        second = database.call(lambda session: seed(session, pins))
        after_second = _counts(database)
    finally:
        database.dispose()
    assert first.total == sum(after_first) > 0
    assert second == SeedReport()
    assert after_second == after_first


def test_seed_contains_the_required_demo_rows(seeded_settings: Settings) -> None:
    database = Database(seeded_settings.db_url)
    try:
        with database.session() as s:
            alice = s.scalar(
                select(Customer).join(CustomerPhone).where(CustomerPhone.number == "15550001001")
            )
            assert alice is not None
            assert (alice.name, alice.vip_level > 0) == ("Alice Chen", True)
            account = s.scalar(select(Account).where(Account.number == "100200"))
            assert account is not None
            assert (account.customer_id, str(account.balance)) == (alice.id, "1234.56")
            order = s.scalar(select(Order).where(Order.number == "A1001"))
            assert order is not None
            assert order.status == "shipped"
            assert order.expected_delivery is not None
            assert order.expected_delivery.isoformat() == "2026-12-01"
            card = s.scalar(select(LoyaltyMember).where(LoyaltyMember.card_number == "88001234"))
            assert card is not None
            assert card.points == 4520
            non_vip = s.scalars(select(Customer).where(Customer.vip_level == 0)).all()
            assert non_vip
            assert s.scalar(select(func.count()).select_from(Customer)) >= 4
    finally:
        database.dispose()


def test_pins_are_never_stored_in_clear(seeded_settings: Settings, pins: Pins) -> None:
    database = Database(seeded_settings.db_url)
    try:
        hashes = database.call(lambda s: s.scalars(select(Account.pin_hash)).all())
        alice_hash = database.call(
            lambda s: s.scalar(select(Account.pin_hash).where(Account.number == "100200"))
        )
    finally:
        database.dispose()
    assert len(hashes) >= 2
    key_id = pins.key_file.key().key_id
    for pin_hash in hashes:
        scheme, stored_key_id, salt, mac = pin_hash.split("$")
        assert (scheme, stored_key_id, len(salt), len(mac)) == ("hmac-sha256", key_id, 32, 64)
        assert set(salt + mac) <= set("0123456789abcdef")  # a salt and a digest, nothing else
        # "4321" may turn up inside a random hex digest (1 run in ~1,000 did): look outside them
        assert "4321" not in f"{scheme}${stored_key_id}"
    assert len(set(hashes)) == len(hashes)  # salted
    assert alice_hash is not None
    assert pins.check("4321", alice_hash).matched
    assert not pins.check("4322", alice_hash).matched


async def _run(settings: Settings, name: str, **params: str) -> LookupResult:
    async with open_stores(settings) as stores:
        return await stores.lookups.run(name, params)


async def test_customer_by_phone(seeded_settings: Settings) -> None:
    found = await _run(seeded_settings, "customer_by_phone", phone="+1 (555) 000-1001")
    assert found.status is LookupStatus.FOUND
    assert found.values["customer_name"] == "Alice Chen"
    assert found.values["vip"] == "1"
    assert found.values["customer_id"].isdigit()
    bob = await _run(seeded_settings, "customer_by_phone", phone="15550001002")
    assert (bob.status, bob.values["vip"]) == (LookupStatus.FOUND, "0")
    missing = await _run(seeded_settings, "customer_by_phone", phone="15559999999")
    assert missing.status is LookupStatus.NOT_FOUND
    assert missing.values == {}


async def test_account_auth(seeded_settings: Settings) -> None:
    ok = await _run(seeded_settings, "account_auth", account="100200", pin="4321")
    assert ok.status is LookupStatus.FOUND
    assert dict(ok.values) == {"account": "100200", "balance": "1234.56"}
    wrong_pin = await _run(seeded_settings, "account_auth", account="100200", pin="1234")
    unknown = await _run(seeded_settings, "account_auth", account="999999", pin="4321")
    assert wrong_pin == unknown == LookupResult(LookupStatus.NOT_FOUND)


async def test_order_status(seeded_settings: Settings) -> None:
    found = await _run(seeded_settings, "order_status", order="A1001")
    assert found.status is LookupStatus.FOUND
    assert dict(found.values) == {"order_status": "shipped", "expected_delivery": "2026-12-01"}
    missing = await _run(seeded_settings, "order_status", order="Z9999")
    assert missing.status is LookupStatus.NOT_FOUND


async def test_member_points(seeded_settings: Settings) -> None:
    found = await _run(seeded_settings, "member_points", card="88001234")
    assert found.status is LookupStatus.FOUND
    assert dict(found.values) == {"points": "4520", "member_name": "Alice Chen"}
    missing = await _run(seeded_settings, "member_points", card="11112222")
    assert missing.status is LookupStatus.NOT_FOUND


async def test_names_and_bad_calls(seeded_settings: Settings) -> None:
    async with open_stores(seeded_settings) as stores:
        names = stores.lookups.names()
        assert names == {"customer_by_phone", "account_auth", "order_status", "member_points"}
        unknown = await stores.lookups.run("drop_tables", {})
        missing = await stores.lookups.run("account_auth", {"account": "100200"})
    assert unknown.status is LookupStatus.ERROR
    assert "unknown lookup" in unknown.error
    assert missing.status is LookupStatus.ERROR
    assert "pin" in missing.error


async def test_outage_gives_error_not_exception() -> None:
    closed = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/test")
    result = await _run(closed, "customer_by_phone", phone="15550001001")
    assert result.status is LookupStatus.ERROR
    assert result.error.startswith("database unavailable")


async def test_lookups_recover_once_the_database_is_back(db_settings: Settings) -> None:
    """A database without schema fails like an outage; the next call after repair succeeds."""
    async with open_stores(db_settings) as stores:
        before = await stores.lookups.run("order_status", {"order": "A1001"})
        upgrade(stores.database)
        stores.database.call(lambda session: seed(session, stores.lookups.pins))
        after = await stores.lookups.run("order_status", {"order": "A1001"})
    assert before.status is LookupStatus.ERROR
    assert after.status is LookupStatus.FOUND
