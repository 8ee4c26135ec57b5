"""Several nodes: every node's runtime events reach the operators and desks of every node.

A node's ``EventHub`` carries what happened on that node: an agent's phone ringing, their answer, a hold,
the call's end. An agent's desk (or the wallboard) may be served by any node, so each node also sends its
own events to the others (PostgreSQL ``NOTIFY acd_events``, sent from a thread of its own, never on the
event loop) and publishes theirs to its hub, marked with the node they happened on
(``RuntimeEvent.node``). Nothing is sent twice: only this node's own events (``node`` None) go out.

An event about a call this node bridges carries the call's desk state (``DeskState``: on hold, the
consult under way), which the other nodes keep per call (``RemoteDesks``, forgotten when the call ends)
so that a desk served elsewhere shows the call's buttons as they stand. The controls themselves are
carried out by the node holding the call (``ivr_engine.web.forward``).

A node that starts listening (or listens again after a dropped connection) says hello; every other node
answers with the desk state of each call it bridges, so a node restarted while another node holds its
agents' calls knows at once which of them are on hold.

Notifications are best effort: a message lost with a dropped connection is not sent again. The ACD's
state (agents, calls, offers) is in the shared store and every node refreshes it at each tick; what a lost
message costs is an event a desk did not hear and, until the call's next event, its desk state.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from acd.live.api import RuntimeEvent, RuntimeEventKind
from acd.live.desk_state import DeskState, RemoteDesks
from acd.live.hub import EventHub
from ivr_engine.logs import fields

__all__ = [
    "EVENTS_CHANNEL", "DeskNote", "DeskOf", "EventSender", "Hello", "NodeBus", "NodeEvent", "decode",
    "decode_any", "encode", "encode_desk", "encode_hello", "on_loop",
]

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "acd_events"
"""The PostgreSQL ``NOTIFY`` channel of the nodes' runtime events (payload: ``encode``)."""

MAX_DETAIL = 400
"""Longer details are cut: a notification's payload must stay under PostgreSQL's 8,000 bytes."""

_PENDING_MAX = 1000
_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class NodeEvent:
    """One runtime event as sent between nodes: the node it happened on, and the call's desk state."""

    event: RuntimeEvent
    desk: DeskState | None = None


def encode(node: str, event: RuntimeEvent, desk: DeskState | None) -> str:
    data: dict[str, Any] = {
        "node": node, "kind": event.kind.value, "at": event.at.isoformat(), "agent": event.agent_id,
        "call": event.call_id, "caller": event.caller, "queue": event.queue,
        "detail": event.detail[:MAX_DETAIL],
    }  # fmt: skip
    if desk is not None:
        data["desk"] = _desk_json(desk)
    return json.dumps(data, separators=(",", ":"))


@dataclass(frozen=True)
class Hello:
    """A node started listening: the others answer with their calls' desk states."""

    node: str


@dataclass(frozen=True)
class DeskNote:
    """A call's desk state, sent in answer to a ``Hello``."""

    node: str
    call_id: str
    desk: DeskState


def encode_hello(node: str) -> str:
    return json.dumps({"node": node, "hello": True}, separators=(",", ":"))


def encode_desk(node: str, call_id: str, desk: DeskState) -> str:
    return json.dumps({"node": node, "desk_of": call_id, "desk": _desk_json(desk)}, separators=(",", ":"))


def _desk_json(desk: DeskState) -> dict[str, Any]:
    return {"held": desk.held, "consult_target": desk.consult_target, "consult_state": desk.consult_state}


def _desk(data: dict[str, Any]) -> DeskState:
    return DeskState(bool(data["held"]), _text(data, "consult_target"), _text(data, "consult_state"))


def decode_any(payload: str) -> NodeEvent | Hello | DeskNote:
    """Whatever a node sent on ``EVENTS_CHANNEL`` (the JSON read once); ValueError for anything else."""
    try:
        data = json.loads(payload)
        if data.get("hello") is True:
            return Hello(str(data["node"]))
        if "desk_of" in data:
            return DeskNote(str(data["node"]), str(data["desk_of"]), _desk(data["desk"]))
        return _event(data)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # ValueError: bad JSON, kind, time
        raise ValueError(f"not a node event: {exc}") from None


def decode(payload: str) -> NodeEvent:
    """The event ``encode`` wrote, with ``node`` set; ValueError for anything else."""
    try:
        return _event(json.loads(payload))
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"not a node event: {exc}") from None


def _event(data: dict[str, Any]) -> NodeEvent:
    desk = data.get("desk")
    event = RuntimeEvent(
        RuntimeEventKind(data["kind"]), datetime.fromisoformat(data["at"]), _text(data, "agent"),
        _text(data, "call"), _text(data, "caller"), _text(data, "queue"), str(data.get("detail", "")),
        node=str(data["node"]),
    )  # fmt: skip
    return NodeEvent(event, None if desk is None else _desk(desk))


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


class EventSender:
    """Sends payloads on ``EVENTS_CHANNEL`` from a thread of its own, on a connection of its own
    (reconnecting once a second while the database is away; what cannot be sent then is dropped)."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._pending: queue.Queue[str | None] = queue.Queue(_PENDING_MAX)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.sent = 0
        self.dropped = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="acd-events-send", daemon=True)
        self._thread.start()

    def send(self, payload: str) -> None:
        """Queue ``payload`` (never blocks: a full queue drops it)."""
        try:
            self._pending.put_nowait(payload)
        except queue.Full:
            self.dropped += 1

    def stop(self) -> None:
        """Send what is queued (while the database answers), then stop; blocks: call it off the loop."""
        self._stopping.set()
        if self._thread is not None:
            self._pending.put(None)
            self._thread.join(timeout=5)

    def _run(self) -> None:
        payload: str | None = ""
        while True:
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    while True:
                        if not payload:
                            payload = self._pending.get()
                        if payload is None:
                            return
                        conn.execute("SELECT pg_notify(%s, %s)", (EVENTS_CHANNEL, payload))
                        self.sent += 1
                        payload = ""
            except psycopg.Error as exc:
                if payload:
                    self.dropped += 1  # the one being sent: the database is away
                payload = ""
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                log.warning(fields("acd.events.send_failed", error=first))
                if self._stopping.wait(_RETRY_SECONDS):
                    return


DeskOf = Callable[[str], DeskState | None]
"""The desk state of a call this node bridges (None: not one of this node's bridged calls)."""


class NodeBus:
    """Sends this node's runtime events to the other nodes and publishes theirs to the hub.

    ``relayed``: kinds another part sends itself, once it has done its share (the service's screen-pops
    send an ``answered`` event once the pop is built, so the IVR path is in the database when the other
    nodes build theirs)."""

    def __init__(self, hub: EventHub, node: str, send: Callable[[str], None], desk_of: DeskOf, *,
                 remote: RemoteDesks, relayed: frozenset[RuntimeEventKind] = frozenset(),
                 bridged: Callable[[], Iterable[str]] = tuple) -> None:
        self._hub = hub
        self._node = node
        self._send = send
        self._desk_of = desk_of
        self._remote = remote
        self._bridged = bridged
        self.relayed = relayed
        self.heard = 0
        """Events from other nodes published here so far."""

    def share(self, event: RuntimeEvent) -> None:
        """Send one of this node's events to the other nodes."""
        desk = self._desk_of(event.call_id) if event.call_id else None
        self._send(encode(self._node, event, desk))

    def hello(self) -> None:
        """This node listens (again): ask the other nodes for their calls' desk states."""
        self._send(encode_hello(self._node))

    def received(self, payload: str) -> None:
        """A notification on ``EVENTS_CHANNEL`` (on the loop): another node's event goes to the hub; a
        hello is answered with this node's calls' desk states; a desk state is kept."""
        try:
            message = decode_any(payload)
        except ValueError as exc:
            log.warning(fields("acd.events.unreadable", error=str(exc)))
            return
        origin = message.event.node if isinstance(message, NodeEvent) else message.node
        if origin == self._node:  # PostgreSQL notifies the sender too
            return
        if isinstance(message, Hello):
            for call_id in self._bridged():
                desk = self._desk_of(call_id)
                if desk is not None:
                    self._send(encode_desk(self._node, call_id, desk))
            return
        if isinstance(message, DeskNote):
            self._remote.keep(message.call_id, message.desk)
            return
        event = message.event
        self._remote.heard(event, message.desk)
        self.heard += 1
        self._hub.publish(event)

    async def run(self) -> None:
        """Share every event this node publishes until cancelled (subscribed before the first await)."""
        subscription = self._hub.subscribe()
        try:
            async for event in subscription:
                if event.node is None and event.kind not in self.relayed:
                    self.share(event)
        finally:
            await subscription.aclose()


def on_loop(loop: asyncio.AbstractEventLoop, received: Callable[[str], None]) -> Callable[[str], None]:
    """``received`` called on ``loop`` from the listener's thread."""

    def deliver(payload: str) -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(received, payload)

    return deliver
