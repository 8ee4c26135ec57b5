"""Screen-pop from storage, on SQLite and PostgreSQL: known customer, unknown caller, IVR path, history."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from acd import callback_entry
from acd.live.api import RuntimeEvent, RuntimeEventKind
from acd.records.rows import QueueCallRow
from ivr_engine.config import Settings
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.memory import MemoryNodeLog, MemorySurveys, MemoryVoicemails
from ivr_engine.flow.ports import LookupStatus
from ivr_engine.flow.services import FlowServices
from ivr_engine.flow.simulator import ScriptedChannel, SimClock, parse_script, simulate
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.screenpop import (
    NEW_CALLER,
    Answered,
    ScreenPop,
    ScreenPopService,
    build_screen_pop,
    format_screen_pop,
)
from ivr_engine.screenpop.model import VisitCard
from ivr_engine.storage import Database
from ivr_engine.storage.lookups import SqlLookups
from ivr_engine.storage.models import Call, Customer, CustomerPhone, NodeEventRow
from ivr_engine.storage.pins import Pins
from ivr_engine.workorders import store
from ivr_engine.workorders.model import NewOrder
from ivr_engine.workorders.policy import DEFAULT_POLICY
from ivr_engine.workorders.screenpop import return_visit
from ivr_engine.workorders.visits import visit_call_id

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ALICE = "15550001001"
ALICE_OTHER_PHONE = "15550001011"


@pytest.fixture
def database(seeded_settings: Settings) -> Iterator[Database]:
    db = Database(seeded_settings.db_url)
    yield db
    db.dispose()


def _add_call(db: Database, call_id: str, caller: str, started: datetime, *, ended: bool = True,
              disposition: str = "completed") -> None:
    db.call(lambda s: s.add(Call(id=call_id, caller=caller, dialled="100", started=started,
                                 ended=started + timedelta(seconds=90) if ended else None,
                                 disposition=disposition)))


def _add_events(db: Database, call_id: str, steps: list[tuple[int, str, str, str | None, str]]) -> None:
    def work(session: Session) -> None:
        for seq, node, node_type, given, outcome in steps:
            entered = T0 + timedelta(seconds=seq * 5)
            session.add(NodeEventRow(call_id=call_id, seq=seq, flow="main", node=node, node_type=node_type,
                                     entered=entered, left=entered + timedelta(seconds=4), input=given,
                                     outcome=outcome))

    db.call(work)


def _answered(call_id: str, caller: str) -> Answered:
    return Answered(call_id=call_id, agent_id="1001", caller=caller, queue="general",
                    at=T0 + timedelta(minutes=1))


def test_known_customer_card_has_accounts_orders_points(database: Database) -> None:
    pop = database.call(lambda s: build_screen_pop(s, _answered("c-now", ALICE)))

    card = pop.customer
    assert card.known
    assert card.name == "Alice Chen"
    assert card.vip
    assert card.vip_level == 2
    assert [(a.number, a.balance) for a in card.accounts] == [("100200", "1234.56")]
    assert [(o.number, o.status, o.expected_delivery) for o in card.orders] == [
        ("A1001", "shipped", "2026-12-01"),
        ("A1004", "delivered", "2026-11-02"),
    ]
    assert card.points == 4520


def test_unknown_caller_is_created_once_without_a_name(database: Database) -> None:
    number = "15559998877"
    first = database.call(lambda s: build_screen_pop(s, _answered("c-1", number)))

    assert not first.customer.known
    assert (first.customer.name, first.customer.label) == ("", NEW_CALLER)
    assert first.customer.phone == number
    assert first.customer.customer_id is not None
    assert first.customer.points is None
    rows = database.call(lambda s: s.execute(
        select(Customer.id, Customer.name).join(CustomerPhone).where(CustomerPhone.number == number)).all())
    assert [(r.id, r.name) for r in rows] == [(first.customer.customer_id, "")]

    second = database.call(lambda s: build_screen_pop(s, _answered("c-2", number)))
    assert second.customer.customer_id == first.customer.customer_id
    assert not second.customer.known  # the record exists, but nobody has named the caller yet
    assert second.customer.label == NEW_CALLER
    text = format_screen_pop(second)
    assert f"Customer: new caller {number} (customer #{first.customer.customer_id}, no name yet)" in text
    count = database.call(lambda s: s.scalar(
        select(func.count()).select_from(CustomerPhone).where(CustomerPhone.number == number)))
    assert count == 1

    def name_them(session: Session) -> None:
        customer = session.get(Customer, first.customer.customer_id)
        assert customer is not None
        customer.name = "Dana Ruiz"

    database.call(name_them)  # an agent fills in the record
    third = database.call(lambda s: build_screen_pop(s, _answered("c-3", number)))
    assert (third.customer.known, third.customer.label) == (True, "Dana Ruiz")


async def test_next_call_from_a_new_caller_is_welcomed_not_greeted_by_a_fake_name(
    database: Database, pins: Pins
) -> None:
    number = "15559998878"
    database.call(lambda s: build_screen_pop(s, _answered("c-1", number)))  # the first call's screen-pop
    lookups = SqlLookups(database, pins)
    answer = await lookups.run("customer_by_phone", {"phone": number})
    assert answer.status is LookupStatus.NOT_FOUND

    root = Path(__file__).parents[2]
    library = FlowLibrary.from_paths([root / "flows"])
    main = library.get("main")
    assert main is not None
    clock = SimClock(T0)
    services = FlowServices(
        lookups=lookups, node_log=MemoryNodeLog(), surveys=MemorySurveys(), voicemails=MemoryVoicemails(),
        catalogue=load_catalogue(root / "sounds" / "prompts.yaml"), flows=library, clock=clock,
    )  # fmt: skip
    channel = ScriptedChannel(parse_script(""), caller_id=number, dialled="100", clock=clock)
    sim = await simulate(main, channel, services, call_id="c-2")
    path = [(s.event.node, s.event.outcome) for s in sim.steps]
    assert path[:2] == [("identify", "not_found"), ("welcome", "next")]
    said = " ".join(e.text for e in sim.transcript)
    assert "Hello" not in said
    assert "unknown caller" not in said.lower()


def test_withheld_number_creates_nothing(database: Database) -> None:
    before = database.call(lambda s: s.scalar(select(func.count()).select_from(Customer)))
    pop = database.call(lambda s: build_screen_pop(s, _answered("c-anon", "anonymous")))
    after = database.call(lambda s: s.scalar(select(func.count()).select_from(Customer)))

    assert pop.customer.customer_id is None
    assert not pop.customer.known
    assert pop.customer.label == NEW_CALLER
    assert "Customer: new caller (number withheld)" in format_screen_pop(pop)
    assert after == before


def test_ivr_path_is_in_node_order_and_pin_stays_masked(database: Database) -> None:
    _add_call(database, "c-now", ALICE, T0, ended=False, disposition="in_progress")
    # Written out of order, as a write-behind batch may be; the screen-pop orders by seq.
    _add_events(database, "c-now", [
        (3, "agent", "transfer", None, "queued"),
        (1, "main_menu", "menu", "1", "balance"),
        (2, "ask_pin", "gather", "****", "found"),
    ])
    _add_events(database, "other-call", [(1, "main_menu", "menu", "9", "invalid")])

    pop = database.call(lambda s: build_screen_pop(s, _answered("c-now", ALICE)))

    assert [(p.seq, p.node, p.input, p.outcome) for p in pop.path] == [
        (1, "main_menu", "1", "balance"),
        (2, "ask_pin", "****", "found"),
        (3, "agent", None, "queued"),
    ]
    assert pop.path[0].seconds == pytest.approx(4.0)
    assert "4321" not in format_screen_pop(pop)
    assert "input ****" in format_screen_pop(pop)


def test_a_callbacks_pop_shows_the_call_it_was_booked_on_and_why(database: Database) -> None:
    _add_call(database, "booked-on", ALICE, T0 - timedelta(minutes=30))
    _add_events(database, "booked-on", [(1, "main_menu", "menu", "0", "agent"),
                                        (2, "to_general", "transfer", None, "callback")])

    pop = database.call(lambda s: build_screen_pop(s, _answered(callback_entry("booked-on"), ALICE)))

    assert (pop.call_id, pop.reason, pop.customer.name) == ("booked-on", "callback", "Alice Chen")
    assert [(p.node, p.outcome) for p in pop.path] == [("main_menu", "agent"), ("to_general", "callback")]
    assert ScreenPop.from_json(pop.to_json()) == pop
    assert f"callback to {ALICE}, booked on call booked-on" in format_screen_pop(pop)
    plain = database.call(lambda s: build_screen_pop(s, _answered("c-now", ALICE)))
    assert plain.reason == ""


def test_a_return_visits_pop_shows_the_work_order_its_resolution_and_the_call_it_came_from(
    database: Database,
) -> None:
    _add_call(database, "complained", ALICE, T0 - timedelta(days=2))
    _add_events(database, "complained", [(1, "main_menu", "menu", "0", "agent")])
    new = NewOrder(kind="complaint", description="parcel broken", by="1001", phone=ALICE,
                   call_id="complained")
    order = database.call(lambda s: store.create_order(s, DEFAULT_POLICY, new, T0 - timedelta(days=2), UTC))
    database.call(lambda s: store.close_order(s, DEFAULT_POLICY, order.serial, "courier replaced it", "tom",
                                              T0 - timedelta(days=1)))

    pop = database.call(lambda s: build_screen_pop(
        s, _answered(callback_entry(visit_call_id(order.serial)), ALICE), visits=return_visit))

    assert (pop.reason, pop.call_id, pop.customer.name) == ("return visit", "complained", "Alice Chen")
    assert pop.visit == VisitCard(order.serial, "complaint", "parcel broken", "courier replaced it")
    assert [p.node for p in pop.path] == ["main_menu"]
    assert ScreenPop.from_json(pop.to_json()) == pop
    text = format_screen_pop(pop)
    assert f"return visit to {ALICE} for work order {order.serial}" in text
    assert "resolution: courier replaced it" in text
    callback = database.call(lambda s: build_screen_pop(s, _answered(callback_entry("complained"), ALICE),
                                                        visits=return_visit))
    assert (callback.reason, callback.visit) == ("callback", None)


def test_last_calls_cover_all_the_customers_phones_newest_first(database: Database) -> None:
    _add_call(database, "old", ALICE, T0 - timedelta(days=3), disposition="caller_hangup")
    _add_call(database, "mid", ALICE_OTHER_PHONE, T0 - timedelta(days=2))
    _add_call(database, "new", ALICE, T0 - timedelta(days=1))
    _add_call(database, "bob", "15550001002", T0 - timedelta(hours=1))
    _add_call(database, "c-now", ALICE, T0, ended=False, disposition="in_progress")

    pop = database.call(lambda s: build_screen_pop(s, _answered("c-now", ALICE), history=2))

    assert [c.call_id for c in pop.last_calls] == ["new", "mid"]
    assert pop.last_calls[0].seconds == pytest.approx(90.0)
    assert pop.last_calls[0].dialled == "100"


def test_json_round_trip(database: Database) -> None:
    _add_call(database, "old", ALICE, T0 - timedelta(days=3), disposition="caller_hangup")
    _add_events(database, "c-now", [(1, "main_menu", "menu", "0", "agent")])
    pop = database.call(lambda s: build_screen_pop(s, _answered("c-now", ALICE)))

    assert ScreenPop.from_json(pop.to_json()) == pop
    assert pop.to_json()["customer"]["vip"] is True


async def test_service_delivers_latest_and_streams_to_the_agent(database: Database) -> None:
    service = ScreenPopService(database)
    stream = service.stream("1001")
    waiting = asyncio.create_task(_next(stream))
    await wait_for_subscriber(service, "1001")

    pop = await service.on_answered(_answered("c-now", ALICE))

    assert pop is not None
    assert service.latest("1001") == pop
    assert service.latest("1002") is None
    assert (await waiting) == pop
    await stream.aclose()
    assert service.subscriber_count("1001") == 0


async def _next(stream: AsyncIterator[ScreenPop]) -> ScreenPop:
    return await anext(stream)


async def wait_for_subscriber(service: ScreenPopService, agent_id: str) -> None:
    for _ in range(100):
        if service.subscriber_count(agent_id):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the stream never subscribed")


async def test_run_builds_only_for_answered_events(database: Database) -> None:
    async def events() -> AsyncIterator[RuntimeEvent]:
        at = T0 + timedelta(minutes=1)
        yield RuntimeEvent(RuntimeEventKind.OFFERED, at, "1002", "c-x", ALICE, "general")
        yield RuntimeEvent(RuntimeEventKind.ANSWERED, at, "1001", "c-now", ALICE, "general")
        yield RuntimeEvent(RuntimeEventKind.ANSWERED, at, None, "c-y", ALICE, "general")

    service = ScreenPopService(database)
    await service.run(events())

    latest = service.latest("1001")
    assert latest is not None
    assert (latest.call_id, latest.customer.name, latest.queue) == ("c-now", "Alice Chen", "general")
    assert service.latest("1002") is None


async def test_run_relays_this_nodes_answered_events_once_the_pop_is_built(database: Database) -> None:
    """Several nodes: an answer here goes to the other nodes after its pop is built (the IVR path is in
    the database by then); another node's answer is built here and sent nowhere."""
    at = T0 + timedelta(minutes=1)
    service = ScreenPopService(database)
    relayed: list[tuple[str | None, bool]] = []

    def relay(event: RuntimeEvent) -> None:
        relayed.append((event.call_id, service.latest(event.agent_id or "") is not None))

    async def events() -> AsyncIterator[RuntimeEvent]:
        yield RuntimeEvent(RuntimeEventKind.OFFERED, at, "1002", "c-x", ALICE, "general")
        yield RuntimeEvent(RuntimeEventKind.ANSWERED, at, "1001", "c-now", ALICE, "general")
        yield RuntimeEvent(RuntimeEventKind.ANSWERED, at, "1003", "c-there", ALICE, "general", node="node2")

    await service.run(events(), relay)
    assert relayed == [("c-now", True)]  # built first, then relayed; node 2's not sent back
    there = service.latest("1003")
    assert there is not None
    assert there.call_id == "c-there"


def _add_queue_stay(
    db: Database, call_id: str, caller: str, agent_id: str | None, answered: datetime | None
) -> None:
    db.call(lambda s: s.add(QueueCallRow(call_id=call_id, queue="general", caller=caller, priority=0,
                                         enqueued=T0, answered=answered, agent_id=agent_id)))


async def test_restore_rebuilds_each_agents_latest_pop_from_stored_queue_facts(database: Database) -> None:
    """A restarted service has no pops in memory; the stored answers give each agent theirs back."""
    _add_call(database, "c-old", ALICE, T0)
    _add_call(database, "c-new", ALICE, T0 + timedelta(minutes=5))
    _add_events(database, "c-new", [(1, "main_menu", "menu", "0", "agent")])
    _add_call(database, "c-other", "15550009999", T0)
    _add_queue_stay(database, "c-old", ALICE, "1001", T0 + timedelta(minutes=1))
    _add_queue_stay(database, "c-new", ALICE, "1001", T0 + timedelta(minutes=6))
    _add_queue_stay(database, "c-other", "15550009999", "1002", T0 + timedelta(minutes=2))
    _add_queue_stay(database, "c-waiting", ALICE, None, None)
    _add_queue_stay(database, "c-stale", ALICE, "1003", T0 - timedelta(days=2))

    service = ScreenPopService(database)
    live = await service.on_answered(Answered("c-live", "1002", ALICE, "general", T0 + timedelta(minutes=9)))
    assert await service.restore(since=T0 - timedelta(hours=12)) == 2

    restored = service.latest("1001")
    assert restored is not None
    assert (restored.call_id, restored.customer.name) == ("c-new", "Alice Chen")
    assert [entry.node for entry in restored.path] == ["main_menu"]
    assert service.latest("1002") == live  # delivered after the start: not replaced by an older call
    assert service.latest("1003") is None  # answered before the window


async def test_restore_with_the_database_down_restores_nothing() -> None:
    down = Database("postgresql+psycopg://postgres@127.0.0.1:1/test")
    try:
        assert await ScreenPopService(down).restore(since=T0) == 0
    finally:
        down.dispose()
