"""``SqlStore`` on SQLite and PostgreSQL: state that survives the store, refusals by the database itself,
atomic engine operations, and (PostgreSQL) per-queue advisory locks and ``SKIP LOCKED`` ready agents."""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace

import pytest
from psycopg.pq import Trace, TransactionStatus
from sqlalchemy import BigInteger, event, func, insert, literal, select, text
from sqlalchemy.exc import IntegrityError

from acd import (
    EVERY_QUEUE,
    Acd,
    AgentState,
    Decision,
    MemoryStore,
    OfferConflict,
    OfferMade,
    Strategy,
    sql_engine,
)
from acd.errors import StoreError
from acd.sql_codec import decision_text
from acd.sql_queries import EVERY_QUEUE_KEY
from acd.sql_store import HANDLE_TIMES_KEPT, HANDLE_TIMES_PRUNED_EVERY, SqlStore
from acd.sql_tables import HANDLE_TIMES, OFFERS

from .small_centre import QUEUES, start_agents, store_view


def busy_centre(store: SqlStore) -> Acd:
    """Agents in every state (a2 paused for lunch), calls of several bands waiting, one ringing."""
    acd = Acd(QUEUES, store=store, agents=start_agents())
    acd.login("a3", 0.0)
    acd.enqueue("c1", "100", "general", 1.0)  # a3 rings
    acd.answer("a3", 2.0)
    acd.end_call("a3", 30.0)  # wrap-up, a handle time of 28 s
    acd.login("a2", 31.0, paused_reason="lunch")
    acd.login("a1", 32.0)
    acd.enqueue("c2", "101", "orders", 33.0)  # nobody has orders 6 ready
    for i, (priority, vip) in enumerate([(0, False), (2, False), (0, True), (1, False)]):
        acd.enqueue(f"c{3 + i}", "102", "billing", 34.0 + i, priority=priority, vip=vip)  # c3 rings a1
    acd.enqueue("c7", "103", "loyalty", 40.0)
    return acd


def test_a_new_store_on_the_same_database_sees_the_same_state(acd_db_url: str) -> None:
    first = SqlStore(acd_db_url)
    try:
        busy_centre(first)
        before = store_view(first, 50.0)
        seq = first.next_seq()
    finally:
        first.close()
    assert {a.id: a.state for a in before["agents"]} == {
        "a1": AgentState.RINGING, "a2": AgentState.PAUSED, "a3": AgentState.WRAP_UP,
        "a4": AgentState.LOGGED_OUT}
    assert [c.id for c in before["billing"]["waiting"]] == ["c5", "c4", "c6", "c3"]
    assert [(o.agent_id, o.call_id) for o, _ in before["offers"]] == [("a1", "c3")]
    assert before["general"]["handle"] == [28.0]
    assert before["billing"]["rr"] == "a1"

    again = SqlStore(acd_db_url)
    try:
        assert store_view(again, 50.0) == before
        assert again.agent("a2").state is AgentState.PAUSED
        assert again.agent("a2").pause_reason == "lunch"
        assert [again.position(c) for c in ("c5", "c4", "c6", "c3")] == [1, 2, 3, 4]
        assert again.next_seq() == seq + 1
        resumed = Acd(QUEUES, store=again, agents=start_agents())
        assert [type(e).__name__ for e in resumed.answer("a1", 51.0)][-1] == "CallAnswered"
    finally:
        again.close()


def test_a_failed_transaction_keeps_nothing_and_the_next_reads_afresh(acd_db_url: str) -> None:
    store, other = SqlStore(acd_db_url), SqlStore(acd_db_url)
    try:
        Acd(QUEUES, store=store, agents=start_agents())
        a1 = store.agent("a1")
        assert a1 is not None

        def fail_after_pausing() -> None:
            with store.transaction():
                store.save_agent(replace(a1, state=AgentState.PAUSED, pause_reason="lunch"))
                assert store.agent("a1").pause_reason == "lunch"  # seen inside the transaction
                raise RuntimeError("the operation failed")

        with pytest.raises(RuntimeError, match="the operation failed"):
            fail_after_pausing()
        assert store.agent("a1") == a1
        with store.transaction():
            assert store.agent("a1") == a1
        other.save_agent(replace(a1, state=AgentState.READY))  # e.g. another node
        with store.transaction():
            assert store.agent("a1").state is AgentState.READY
    finally:
        store.close()
        other.close()


def _offer_row(agent_id: str, call_id: str) -> dict[str, object]:
    decision = Decision(agent_id, Strategy.LONGEST_IDLE, "written behind the store's back", {})
    return {"agent_id": agent_id, "call_id": call_id, "queue": "general", "at": 1.0, "expires_at": 16.0,
            "decision": decision_text(decision)}


def test_the_database_refuses_a_second_offer_for_an_agent_or_a_call(sql_store: SqlStore) -> None:
    Acd(QUEUES, store=sql_store, agents=start_agents())
    with sql_store.engine.begin() as conn:
        conn.execute(insert(OFFERS).values(_offer_row("a1", "c1")))
    for second in (_offer_row("a1", "c2"), _offer_row("a2", "c1")):
        with pytest.raises(IntegrityError), sql_store.engine.begin() as conn:
            conn.execute(insert(OFFERS).values(second))
    with sql_store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OFFERS)).scalar() == 1


def test_an_offer_the_database_refuses_undoes_the_whole_operation(sql_store: SqlStore) -> None:
    """c1 is already offered (a row written behind the store's back): queueing c1 offers it to a1, the
    database refuses, and neither the call nor a1's ringing is kept."""
    acd = Acd(QUEUES, store=sql_store, agents=start_agents())
    acd.login("a1", 0.0)
    with sql_store.engine.begin() as conn:
        conn.execute(insert(OFFERS).values(_offer_row("a2", "c1")))
    with pytest.raises(OfferConflict, match="call 'c1' to agent a1 refused"):
        acd.enqueue("c1", "100", "general", 1.0)
    assert sql_store.call("c1") is None
    assert sql_store.agent("a1").state is AgentState.READY
    assert [o.agent_id for o in sql_store.offers()] == ["a2"]


def test_handle_times_keep_the_last_ones_in_order_like_the_memory_store(sql_store: SqlStore) -> None:
    memory = MemoryStore()
    recorded = HANDLE_TIMES_KEPT + 40
    for i in range(recorded):
        for store in (memory, sql_store):
            store.record_handle_time("general", float(i))
            store.record_handle_time("orders", 1000.0 + i)
    assert sql_store.handle_times("general") == memory.handle_times("general")
    assert sql_store.handle_times("general") == [float(i) for i in range(40, recorded)]
    assert sql_store.handle_times("orders") == memory.handle_times("orders")
    with sql_store.engine.connect() as conn:  # older ones are deleted, not just left unread
        kept = select(HANDLE_TIMES.c.queue, func.count()).group_by(HANDLE_TIMES.c.queue)
        rows = dict(conn.execute(kept).all())
    # pruned at the 1st, 17th, ..., 81st: 50 kept then, and the 9 recorded since
    assert rows == {"general": HANDLE_TIMES_KEPT + 9, "orders": HANDLE_TIMES_KEPT + 9}
    assert HANDLE_TIMES_KEPT + 9 <= HANDLE_TIMES_KEPT + HANDLE_TIMES_PRUNED_EVERY


def test_a_call_keeps_the_node_that_queued_it(acd_db_url: str) -> None:
    one, two = SqlStore(acd_db_url, node="node-1"), SqlStore(acd_db_url, node="node-2")
    try:
        Acd(QUEUES, store=one, agents=start_agents()).enqueue("c1", "100", "general", 1.0)
        Acd(QUEUES, store=two, agents=start_agents()).enqueue("c2", "100", "general", 2.0)
        call = two.call("c1")
        assert call is not None
        two.save_call(replace(call, predicted_wait=5.0))  # node 2 updates node 1's call
        assert (two.node_of("c1"), two.node_of("c2")) == ("node-1", "node-2")
        assert one.call("c1") == replace(call, predicted_wait=5.0)
    finally:
        one.close()
        two.close()


def test_a_database_without_the_acd_tables_is_a_clear_error(sqlite_url: str) -> None:
    store = SqlStore(sqlite_url)
    try:
        with pytest.raises(StoreError, match=r"has no ACD tables .*run `ivr db upgrade` first"):
            store.agents()
    finally:
        store.close()


def test_an_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        SqlStore("not a url")
    store = SqlStore("postgresql+psycopg://postgres@127.0.0.1:1/none")
    try:
        with pytest.raises(StoreError, match=r"the ACD state database .*:1/none is unavailable"):
            store.agent_count()
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_locks_a_queue_for_one_transaction(postgres_acd_url: str) -> None:
    store = SqlStore(postgres_acd_url)
    other = SqlStore(postgres_acd_url)
    try:
        def other_gets(queue: str) -> bool:
            with other.engine.begin() as conn:
                lock = select(func.pg_try_advisory_xact_lock(func.hashtext(queue)))
                return bool(conn.execute(lock).scalar())

        with store.transaction("billing", "general"):
            store.agent("a1")  # the locks go with the transaction's first statement, before it
            assert not other_gets("billing")
            assert not other_gets("general")
            assert other_gets("orders")
        assert other_gets("billing")
    finally:
        store.close()
        other.close()


@pytest.mark.postgres
def test_postgres_every_queue_is_one_lock_that_excludes_each_queue(postgres_acd_url: str) -> None:
    """``EVERY_QUEUE`` takes one exclusive lock; a queue's transaction takes it shared, then its queue's:
    queue transactions of different queues run side by side, and none beside an every-queue one."""
    store, other = SqlStore(postgres_acd_url), SqlStore(postgres_acd_url)
    try:
        def other_gets(exclusive: bool) -> bool:
            with other.engine.begin() as conn:
                key = literal(EVERY_QUEUE_KEY, BigInteger())
                lock = (func.pg_try_advisory_xact_lock(key) if exclusive
                        else func.pg_try_advisory_xact_lock_shared(key))
                return bool(conn.execute(select(lock)).scalar())

        with store.transaction(EVERY_QUEUE):
            store.agent("a1")  # the locks go with the transaction's first statement, before it
            assert not other_gets(exclusive=False)
        with store.transaction("billing"):
            store.agent("a1")
            assert other_gets(exclusive=False)  # another queue's call arrival goes ahead
            assert not other_gets(exclusive=True)  # a routing operation waits
        assert other_gets(exclusive=True)
    finally:
        store.close()
        other.close()


@pytest.mark.postgres
def test_postgres_skips_ready_agents_another_transaction_is_routing(postgres_acd_url: str) -> None:
    store, other = SqlStore(postgres_acd_url), SqlStore(postgres_acd_url)
    try:
        acd = Acd(QUEUES, store=store, agents=start_agents())
        for agent_id in ("a1", "a3"):
            acd.login(agent_id, 0.0)
        with store.transaction("general"):
            assert [a.id for a in store.ready_agents("billing")] == ["a1"]
            assert [a.id for a in other.ready_agents("general")] == ["a3"]  # a1 is locked: skipped
        assert [a.id for a in other.ready_agents("general")] == ["a1", "a3"]
    finally:
        store.close()
        other.close()


@pytest.mark.postgres
def test_postgres_routes_an_agent_in_three_round_trips_and_commits_in_the_last(
        postgres_acd_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent back from a pause takes the waiting call: ``BEGIN``, lock, agent, the heads and the
    ready counts; its save, the ready agents, pool counts and nearest passed-over; the writes and
    ``COMMIT``. Nothing else goes to the server: no ``BEGIN`` of the driver's, no ping."""
    monkeypatch.setattr(sql_engine, "PING_AFTER_IDLE_S", 3600.0)  # the connection was used just now
    store, other = SqlStore(postgres_acd_url), SqlStore(postgres_acd_url)
    try:
        acd = Acd(QUEUES, store=store, agents=start_agents())
        acd.login("a1", 0.0, paused_reason="lunch")
        acd.enqueue("c1", "100", "billing", 1.0)
        statements: list[str] = []  # sent one by one, besides the batches
        event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        at_commit: list[TransactionStatus] = []  # the driver's, when SQLAlchemy is about to commit
        event.listen(store.engine, "commit",
                     lambda conn: at_commit.append(conn.connection.driver_connection.info.transaction_status))
        before = store.batches[0]
        with store.engine.connect() as conn:  # the pool's one connection, traced
            driver = conn.connection.driver_connection
        with tempfile.TemporaryFile("w+") as trace:
            driver.pgconn.trace(trace.fileno())
            driver.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)
            events = acd.ready("a1", 2.0)
            driver.pgconn.untrace()
            trace.seek(0)
            sent = [line.split("\t")[2].strip() for line in trace if line.split("\t")[0] == "F"]
        assert [e.offer.call_id for e in events if isinstance(e, OfferMade)] == ["c1"]
        assert statements == []
        assert store.batches[0] - before == 3
        assert sent.count("Sync") == 3  # the client waits for the server only at a Sync
        assert "Query" not in sent  # no ping (a simple query)
        assert at_commit == [TransactionStatus.IDLE]  # already committed by the last batch
        assert other.agent("a1").state is AgentState.RINGING  # committed
        assert [o.call_id for o in other.offers()] == ["c1"]
    finally:
        store.close()
        other.close()


@pytest.mark.postgres
def test_postgres_a_connection_idle_long_enough_is_pinged_and_replaced_if_dead(
        postgres_acd_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store, admin = SqlStore(postgres_acd_url), SqlStore(postgres_acd_url)
    try:
        acd = Acd(QUEUES, store=store, agents=start_agents())
        with store.engine.connect() as conn:
            pid = conn.connection.driver_connection.info.backend_pid
        with admin.engine.begin() as conn:  # the server drops it, as a restart would
            conn.execute(func.pg_terminate_backend(pid).select())
        monkeypatch.setattr(sql_engine, "PING_AFTER_IDLE_S", 0.0)  # it has been idle long enough
        acd.login("a1", 1.0)
        assert admin.agent("a1").state is AgentState.READY
        monkeypatch.setattr(sql_engine, "PING_AFTER_IDLE_S", 3600.0)  # used just now: not pinged...
        pings: list[int] = []
        monkeypatch.setattr(store.engine.dialect, "do_ping", lambda c: pings.append(1) or True)
        acd.login("a2", 2.0)
        assert pings == []
        monkeypatch.undo()
        monkeypatch.setattr(sql_engine, "PING_AFTER_IDLE_S", 3600.0)
        with store.engine.connect() as conn:
            pid = conn.connection.driver_connection.info.backend_pid
        with admin.engine.begin() as conn:  # ...unless the server has dropped it meanwhile
            conn.execute(func.pg_terminate_backend(pid).select())
        alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        for _ in range(500):  # (the backend says goodbye and exits on its own time)
            with admin.engine.begin() as conn:  # a new transaction each time: a fresh statistics snapshot
                if conn.execute(alive, {"pid": pid}).scalar() == 0:
                    break
            time.sleep(0.01)
        acd.login("a3", 3.0)  # the dead connection is replaced at checkout: the operation does not fail
        assert admin.agent("a3").state is AgentState.READY
    finally:
        store.close()
        admin.close()
