"""Several nodes: each node's runtime events reach the other nodes' hubs (``acd.live.node_bus``), marked with
the node they happened on and with the call's desk state; none is sent back or twice; a relayed kind is
sent only when its sender says; on PostgreSQL they travel as ``NOTIFY acd_events``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from acd.live.api import RuntimeEvent, RuntimeEventKind
from acd.live.desk_state import DeskState, RemoteDesks
from acd.live.hub import EventHub, Subscription
from acd.live.node_bus import (
    MAX_DETAIL,
    EventSender,
    NodeBus,
    decode,
    decode_any,
    encode,
    encode_hello,
    on_loop,
)
from acd.live.notify import ChangeListener, libpq_url

K = RuntimeEventKind
AT = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)


def _event(kind: RuntimeEventKind, call: str = "c1", detail: str = "") -> RuntimeEvent:
    return RuntimeEvent(kind, AT, "1002", call, "5551234", "general", detail)


async def _next(events: Subscription) -> RuntimeEvent:
    return await asyncio.wait_for(anext(events), 5)


def test_an_event_and_its_desk_state_survive_the_trip() -> None:
    desk = DeskState(held=True, consult_target="1003", consult_state="ringing")
    message = decode(encode("node2", _event(K.STATE_CHANGED, detail="call held"), desk))
    assert message.event == RuntimeEvent(K.STATE_CHANGED, AT, "1002", "c1", "5551234", "general", "call held",
                                         node="node2")
    assert message.desk == desk
    assert decode(encode("node2", _event(K.OFFERED), None)).desk is None
    long = decode(encode("node2", _event(K.OFFERED, detail="x" * 10_000), None))
    assert len(long.event.detail) == MAX_DETAIL  # a NOTIFY payload stays under 8,000 bytes


@pytest.mark.parametrize("payload", ["", "{", "[]", '{"node": "n2"}', '{"node": "n2", "kind": "bogus"}'])
def test_an_unreadable_payload_is_refused(payload: str) -> None:
    with pytest.raises(ValueError, match="not a node event"):
        decode(payload)


@pytest.mark.parametrize("payload", ['{"node": "n2", "desk_of": "c1"}', '{"hello": true}'])
def test_an_unreadable_hello_or_desk_state_is_refused(payload: str) -> None:
    with pytest.raises(ValueError, match="not a node event"):
        decode_any(payload)


class _Nodes:
    """Two nodes' hubs and buses, each bus sending straight into the other's ``received``."""

    def __init__(self, relayed: frozenset[RuntimeEventKind] = frozenset()) -> None:
        self.hubs = EventHub(), EventHub()
        self.desks = RemoteDesks(), RemoteDesks()
        self.sent: list[str] = []
        self.local: dict[str, DeskState] = {}

        def send_to(index: int) -> Callable[[str], None]:
            def send(payload: str) -> None:
                self.sent.append(payload)
                self.buses[index].received(payload)
            return send

        self.buses = (
            NodeBus(self.hubs[0], "node1", send_to(1), self.local.get,
                    remote=self.desks[0], relayed=relayed, bridged=lambda: list(self.local)),
            NodeBus(self.hubs[1], "node2", send_to(0), lambda _: None,
                    remote=self.desks[1], relayed=relayed),
        )


async def test_a_nodes_events_reach_the_other_node_once_with_the_calls_desk_state() -> None:
    nodes = _Nodes()
    nodes.local["c1"] = DeskState(held=True)
    tasks = [asyncio.create_task(bus.run()) for bus in nodes.buses]
    there = nodes.hubs[1].subscribe()
    here = nodes.hubs[0].subscribe()
    try:
        await asyncio.sleep(0)  # both buses subscribed
        nodes.hubs[0].emit(K.STATE_CHANGED, AT.timestamp(), "1002", "c1", "5551234", "general", "call held")
        heard = await _next(there)
        assert (heard.kind, heard.agent_id, heard.call_id) == (K.STATE_CHANGED, "1002", "c1")
        assert heard.node == "node1"
        assert nodes.desks[1].get("c1") == DeskState(held=True)
        assert (await _next(here)).node is None  # node 1's own subscribers heard it as their own
        nodes.hubs[0].emit(K.ENDED, AT.timestamp(), "1002", "c1", "5551234", "general")
        assert (await _next(there)).kind is K.ENDED
        assert nodes.desks[1].get("c1") is None  # forgotten once the call ended
        await asyncio.sleep(0.05)
        assert len(nodes.sent) == 2  # node 2 sent none of node 1's events back
        assert nodes.buses[1].heard == 2
        assert nodes.buses[0].heard == 0
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_relayed_kind_goes_out_only_when_its_sender_shares_it() -> None:
    nodes = _Nodes(relayed=frozenset({K.ANSWERED}))
    tasks = [asyncio.create_task(bus.run()) for bus in nodes.buses]
    there = nodes.hubs[1].subscribe()
    try:
        await asyncio.sleep(0)
        nodes.hubs[0].emit(K.ANSWERED, AT.timestamp(), "1002", "c1", "5551234", "general")
        await asyncio.sleep(0.05)
        assert nodes.sent == []  # the screen-pop service relays it once the pop is built
        nodes.buses[0].share(_event(K.ANSWERED))
        heard = await _next(there)
        assert (heard.kind, heard.node) == (K.ANSWERED, "node1")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def test_its_own_echo_and_garbage_are_not_published() -> None:
    hub = EventHub()
    events = hub.subscribe()
    bus = NodeBus(hub, "node1", lambda _: None, lambda _: None, remote=RemoteDesks())
    bus.received(encode("node1", _event(K.OFFERED), None))  # PostgreSQL notifies the sender too
    bus.received("not json")
    assert bus.heard == 0
    assert events._queue.empty()


def test_remote_desks_keep_the_newest_calls() -> None:
    desks = RemoteDesks(keep=2)
    for call in ("c1", "c2", "c3"):
        desks.heard(_event(K.STATE_CHANGED, call), DeskState(held=True))
    assert [desks.get(c) is not None for c in ("c1", "c2", "c3")] == [False, True, True]


@pytest.mark.postgres
async def test_events_travel_between_nodes_as_postgres_notifications(postgres_acd_url: str) -> None:
    node = f"node-{uuid.uuid4().hex[:8]}"  # other suites on this database may notify too
    got: asyncio.Queue[str] = asyncio.Queue()
    listening = asyncio.Event()  # once connected, after its LISTENs
    listener = ChangeListener(postgres_acd_url, "listener", lambda: None, listening=listening.set,
                              events=on_loop(asyncio.get_running_loop(), got.put_nowait))
    sender = EventSender(libpq_url(postgres_acd_url))
    try:
        listener.start()
        await asyncio.wait_for(listening.wait(), 10)  # a notification sent before LISTEN is lost
        sender.start()
        sender.send(encode(node, _event(K.STATE_CHANGED, detail="call held"), DeskState(held=True)))
        while True:
            message = decode(await asyncio.wait_for(got.get(), 10))
            if message.event.node == node:
                break
        assert message.event.detail == "call held"
        assert message.desk == DeskState(held=True)
        for _ in range(100):  # counted once execute() returned, maybe after the listener heard it
            if sender.sent:
                break
            await asyncio.sleep(0.02)
        assert (sender.sent, sender.dropped) == (1, 0)
    finally:
        await asyncio.to_thread(sender.stop)
        await asyncio.to_thread(listener.stop)


def test_a_node_that_says_hello_learns_the_desk_state_of_every_call_the_others_bridge() -> None:
    """Node 2 (re)started while node 1 holds agent 1002's call on hold: node 1 answers its hello."""
    nodes = _Nodes()
    nodes.local.update({"c1": DeskState(held=True), "c2": DeskState(False, "1003", "talking")})
    there = nodes.hubs[1].subscribe()
    nodes.buses[1].hello()
    assert nodes.desks[1].get("c1") == DeskState(held=True)
    assert nodes.desks[1].get("c2") == DeskState(False, "1003", "talking")
    assert there._queue.empty()  # desk states are kept, not published as events
    assert len(nodes.sent) == 3  # the hello and two answers; node 2 bridges nothing to answer with
    nodes.buses[0].received(encode_hello("node1"))  # its own hello, as PostgreSQL echoes it
    assert len(nodes.sent) == 3
