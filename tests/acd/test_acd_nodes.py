"""Several nodes on one ``SqlStore`` database (SQLite and PostgreSQL): one centre, the queues each engine
operation locks, the node owning a call or an agent's call, heartbeat leases and the release of a node
whose lease expired, and (PostgreSQL) the notification of a committed change."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import event

from acd import EVERY_QUEUE, Acd, AgentState, CallAbandoned, CallOverflowed
from acd.live.lease import NodeAddress, NodeLease, release_node
from acd.live.notify import ChangeListener, libpq_url
from acd.live.worker import EngineWorker, read_view
from acd.sql_store import CHANGES_CHANNEL, SqlStore

from .acd_helpers import offers
from .small_centre import QUEUES, start_agents


@pytest.fixture
def nodes(acd_db_url: str) -> Iterator[tuple[Acd, Acd]]:
    """The engines of node1 and node2 on one database."""
    one, two = SqlStore(acd_db_url, node="node1"), SqlStore(acd_db_url, node="node2")
    try:
        yield Acd(QUEUES, store=one, agents=start_agents()), Acd(QUEUES, store=two)
    finally:
        one.close()
        two.close()


def _store(engine: Acd) -> SqlStore:
    assert isinstance(engine.store, SqlStore)
    return engine.store


def test_an_agent_logged_in_on_one_node_takes_the_longest_waiting_call_of_any_node(
    nodes: tuple[Acd, Acd],
) -> None:
    one, two = nodes
    two.enqueue("n2-a", "200", "general", 1.0)
    one.enqueue("n1-a", "100", "general", 2.0)
    two.enqueue("n2-b", "201", "general", 3.0)
    assert offers(one.login("a3", 4.0)) == [("n2-a", "a3")]  # node1's operation, node2's caller
    assert _store(one).node_of("n2-a") == "node2"
    assert offers(two.login("a1", 5.0)) == [("n1-a", "a1")]
    two.answer("a3", 6.0)  # node2 owns its caller's channel: it answers and bridges
    one.answer("a1", 6.5)
    assert [a.id for a in _store(one).agents_on_calls_of("node2")] == ["a3"]
    assert [a.id for a in _store(two).agents_on_calls_of("node1")] == ["a1"]
    Acd(QUEUES, store=_store(one), agents=start_agents())
    _store(one).save_agent(one.agent("a3"))  # node1 saving node2's agent (a roster upsert) keeps node2
    assert [a.id for a in _store(one).agents_on_calls_of("node2")] == ["a3"]
    one.end_call("a3", 10.0)
    assert _store(one).agents_on_calls_of("node2") == []


def test_the_node_holding_an_agents_call_is_found_with_the_address_of_its_http_app(
    nodes: tuple[Acd, Acd],
) -> None:
    one, two = nodes
    _store(one).renew_lease("node1", 100.0, "http://127.0.0.1:8091")
    _store(two).renew_lease("node2", 100.0, "http://127.0.0.1:8092")
    assert _store(one).agent_node("a3") is None  # on no call
    two.enqueue("n2-a", "200", "general", 1.0)
    one.login("a3", 2.0)
    two.answer("a3", 3.0)
    assert _store(one).agent_node("a3") == ("node2", "http://127.0.0.1:8092")
    _store(two).renew_lease("node2", 200.0, "http://10.0.0.2:8090")  # a renewal carries the address
    assert _store(one).agent_node("a3") == ("node2", "http://10.0.0.2:8090")
    one.end_call("a3", 4.0)
    assert _store(one).agent_node("a3") is None


async def test_the_lease_names_another_node_holding_a_call_never_itself(nodes: tuple[Acd, Acd]) -> None:
    one, two = nodes
    workers = [EngineWorker(engine, lambda applied: None, lambda: 50.0) for engine in nodes]
    try:
        lease1, lease2 = (
            NodeLease(worker, _store(engine), node=name, lease_seconds=10, clock=lambda: 50.0, web_url=url)
            for worker, engine, name, url in zip(workers, nodes, ("node1", "node2"),
                                                 ("http://127.0.0.1:8091", None), strict=True)
        )
        await lease1.renew()
        await lease2.renew()  # node2 gave no address: nothing can be forwarded to it
        one.login("a1", 1.0)
        one.login("a3", 1.0)
        one.enqueue("n1-a", "100", "general", 2.0)
        two.enqueue("n2-a", "200", "general", 3.0)
        one.answer("a1", 4.0)  # whichever took which call: one agent's call is node1's, one node2's
        two.answer("a3", 4.0)
        assert await lease2.holder_of("a1") == NodeAddress("node1", "http://127.0.0.1:8091")
        assert await lease1.holder_of("a1") is None  # node1 holds it itself
        assert await lease1.holder_of("a3") is None  # node2 holds it, at no known address
        assert await lease2.holder_of("a2") is None  # on no call
    finally:
        for worker in workers:
            worker.close()


def test_only_the_node_holding_the_caller_overflows_it(nodes: tuple[Acd, Acd]) -> None:
    one, two = nodes
    two.enqueue("n2-a", "200", "orders", 0.0)
    late = 0.0 + QUEUES[2].max_wait + 1
    assert not [e for e in one.tick(late) if isinstance(e, CallOverflowed)]
    assert [e.call.id for e in two.tick(late) if isinstance(e, CallOverflowed)] == ["n2-a"]


def test_routing_operations_lock_every_queue_and_a_call_arrival_its_own(
    nodes: tuple[Acd, Acd], monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, _ = nodes
    locked: list[tuple[str, ...]] = []
    monkeypatch.setattr(SqlStore, "_lock_queues", lambda _self, _conn, queues: locked.append(tuple(queues)))
    one.login("a3", 0.0)
    one.enqueue("c1", "100", "orders", 1.0)
    one.pause("a3", "lunch", 2.0)
    one.tick(3.0)
    every = [EVERY_QUEUE]
    assert [sorted(q) for q in locked] == [every, ["orders"], every, every]


def test_the_operators_view_is_read_in_one_transaction(nodes: tuple[Acd, Acd]) -> None:
    one, _ = nodes
    one.login("a3", 0.0)
    one.enqueue("c1", "100", "orders", 1.0)
    begun: list[object] = []
    event.listen(_store(one).engine, "begin", begun.append)
    view = read_view(one, 2.0)
    assert len(begun) == 1
    assert [a.id for a in view.agents if a.state is not AgentState.LOGGED_OUT] == ["a3"]
    waiting = {s.queue: len(s.waiting) for s in view.statuses}
    assert waiting == {q.name: int(q.name == "orders") for q in QUEUES}


def test_a_node_whose_lease_expired_is_released_once(nodes: tuple[Acd, Acd]) -> None:
    one, two = nodes
    s1, s2 = _store(one), _store(two)
    s1.renew_lease("node1", 100.0)
    s2.renew_lease("node2", 20.0)
    one.login("a1", 0.0)
    one.login("a3", 0.0)
    two.enqueue("n2-talk", "200", "general", 1.0)  # a1 or a3 rings...
    talker = next(a for a in ("a1", "a3") if one.agent(a).state is AgentState.RINGING)
    two.answer(talker, 2.0)  # ...and talks, on node2
    two.enqueue("n2-ring", "201", "general", 3.0)  # the other one rings for node2
    ringer = next(a for a in ("a1", "a3") if a != talker)
    two.enqueue("n2-wait", "202", "general", 4.0)
    one.enqueue("n1-wait", "100", "general", 5.0)
    assert one.agent(ringer).state is AgentState.RINGING

    assert s1.expired_nodes(19.0, besides="node1") == []
    assert s1.expired_nodes(21.0, besides="node1") == ["node2"]
    assert s2.expired_nodes(21.0, besides="node2") == []
    assert release_node(one, s1, "node2", 19.0) is None  # not expired yet: nothing happens

    events = release_node(one, s1, "node2", 21.0)
    assert events is not None
    assert {e.call.id for e in events if isinstance(e, CallAbandoned)} == {"n2-ring", "n2-wait"}
    assert offers(events) == [("n1-wait", ringer)]  # freed, it takes node1's caller
    assert one.agent(talker).state is AgentState.WRAP_UP
    assert [c.id for c in s1.waiting("general")] == ["n1-wait"]
    assert s1.calls_of_node("node2") == []
    assert s1.expired_nodes(30.0, besides="node1") == []  # the lease is gone: released once
    assert release_node(one, s1, "node2", 30.0) is None

    s2.renew_lease("node2", 40.0)  # it came back
    assert s1.expired_nodes(30.0, besides="node1") == []


@pytest.mark.postgres
def test_postgres_notifies_committed_changes_only(postgres_acd_url: str) -> None:
    node = f"node-{uuid.uuid4().hex[:8]}"  # other suites on this database may notify too
    store = SqlStore(postgres_acd_url, node=node)
    try:
        with psycopg.connect(libpq_url(postgres_acd_url), autocommit=True) as listen:
            listen.execute(f"LISTEN {CHANGES_CHANNEL}")
            engine = Acd(QUEUES, store=store, agents=start_agents())  # writes agents
            assert _heard(listen, node, 2.0, first=True) == 1
            engine.queue_status("general", 1.0)  # a read
            store.renew_lease(node, 10.0)  # a lease is no ACD change
            with pytest.raises(RuntimeError, match="rolled back"):
                _login_then_fail(engine, store)
            assert _heard(listen, node, 0.3) == 0
            engine.login("a1", 2.0)
            assert _heard(listen, node, 2.0, first=True) == 1
    finally:
        store.close()


def _heard(listen: psycopg.Connection[Any], node: str, seconds: float, *, first: bool = False) -> int:
    """How many of ``node``'s notifications arrive within ``seconds`` (``first``: stop at the first)."""
    deadline, count = time.monotonic() + seconds, 0
    while (left := deadline - time.monotonic()) > 0:
        for notice in listen.notifies(timeout=left, stop_after=1):
            if notice.payload == node:
                count += 1
                if first:
                    return count
    return count


def _login_then_fail(engine: Acd, store: SqlStore) -> None:
    with store.transaction():
        engine.login("a1", 1.0)
        raise RuntimeError("rolled back")


@pytest.mark.postgres
async def test_the_listener_wakes_on_another_nodes_change_not_its_own(postgres_acd_url: str) -> None:
    me = f"node-{uuid.uuid4().hex[:8]}"  # another suite's "node2" on this database would wake it too
    mine, theirs = SqlStore(postgres_acd_url, node=me), SqlStore(postgres_acd_url, node=f"{me}-other")
    woken = asyncio.Event()
    listener = ChangeListener(postgres_acd_url, me, woken.set)
    try:
        listener.start()
        await asyncio.wait_for(woken.wait(), 10)  # connected: woken once to catch up
        woken.clear()
        engine = await asyncio.to_thread(Acd, QUEUES, mine, start_agents())
        await asyncio.to_thread(engine.login, "a1", 1.0)  # node1's own changes
        other = await asyncio.to_thread(Acd, QUEUES, theirs)
        assert listener.heard == 0
        assert not woken.is_set()
        await asyncio.to_thread(other.login, "a3", 2.0)
        await asyncio.wait_for(woken.wait(), 10)
        assert listener.heard == 1
    finally:
        await asyncio.to_thread(listener.stop)
        mine.close()
        theirs.close()
