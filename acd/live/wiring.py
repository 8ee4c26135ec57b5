"""Building the live ACD from settings, for the service's composition (``ivr serve``).

Usage in the runner (the client must exist before the flow services, which take the runtime as their
``transferrer``)::

    async with acd_runtime(settings, client, facts=recorder) as runtime:
        service = IvrService(..., originated_hook=runtime.originated_hook, event_tap=runtime.on_ari_event,
                             resync_hook=runtime.resynced, orphan_hook=runtime.adopt)
        # FlowServices(transferrer=runtime), control API app(control=runtime)

The ACD's state lives where ``settings.acd_store`` says: ``sql`` (the default) in the service's database
(``settings.db_url``, ``acd.sql_store.SqlStore``), so it survives a restart; ``memory`` in the process
(tests, benchmarks). Over SQL the runtime recovers what an earlier run left (``acd.live.recovery``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import acd
from acd.live.api import RuntimeEventKind
from acd.live.dialer import CallbackBook
from acd.live.facts import AcdFactSink
from acd.live.lease import NodeLost
from acd.live.node_bus import EventSender, NodeBus, on_loop
from acd.live.notify import ChangeListener, libpq_url
from acd.live.recording import RecordingSink
from acd.live.runtime import AcdRuntime, RuntimeOptions
from acd.retry_policy import RetryPolicy
from acd.roster import sync_roster
from acd.sql_store import SqlStore
from ivr_engine.ari.client import AriClient
from ivr_engine.config import ACD_STORES, ConfigError, Settings

__all__ = ["ACD_STORES", "acd_runtime", "build_acd_runtime", "open_acd_store", "runtime_options"]


def open_acd_store(settings: Settings) -> acd.AcdStore:
    """The store ``settings.acd_store`` names (``ConfigError`` for another value; ``acd.StoreError`` for a
    database URL that cannot be used)."""
    if settings.acd_store == "memory":
        return acd.MemoryStore()
    if settings.acd_store == "sql":
        return SqlStore(settings.db_url, node=settings.node_id or None)
    raise ConfigError(f"acd_store: {settings.acd_store!r} is not one of {', '.join(ACD_STORES)}")


def runtime_options(settings: Settings) -> RuntimeOptions:
    """The runtime's defaults with the callback settings (retry policy, customer ring time, caller id) and
    where call recordings come from (Asterisk's spool) and are kept."""
    return RuntimeOptions(
        recording_spool=settings.recordings_dir,
        recordings_dir=settings.call_recordings_dir,
        callback_policy=RetryPolicy(settings.callback_attempts, settings.callback_retry_seconds),
        callback_ring_seconds=settings.callback_ring_seconds,
        outbound_caller_id=settings.outbound_caller_id,
        node_url=settings.web_url if settings.node_id else "",
    )


def _shared(settings: Settings, store: acd.AcdStore) -> bool:
    """Several nodes on PostgreSQL (they hear each other through ``LISTEN``/``NOTIFY``)."""
    postgres = isinstance(store, SqlStore) and store.engine.dialect.name == "postgresql"
    return bool(settings.node_id) and postgres


def _node_bus(settings: Settings, store: SqlStore, runtime: AcdRuntime,
              relayed: frozenset[RuntimeEventKind]) -> tuple[NodeBus, EventSender]:
    """This node's events to the other nodes (the sender started), theirs to the runtime's hub."""
    sender = EventSender(libpq_url(store.url))
    sender.start()
    calls = runtime.calls
    bus = NodeBus(runtime.hub, settings.node_id, sender.send, calls.local_desk, remote=calls.remote,
                  relayed=relayed, bridged=lambda: list(calls.bridged()))
    runtime.bus = bus
    return bus, sender


async def _listen(settings: Settings, store: SqlStore, runtime: AcdRuntime, bus: NodeBus) -> ChangeListener:
    """Listening (started) for the other nodes' changes and events."""
    events = on_loop(asyncio.get_running_loop(), bus.received)
    listener = ChangeListener(store.url, settings.node_id, runtime.wake, events=events, listening=bus.hello)
    listener.start()
    return listener


def _engine(config: acd.AcdConfig, store: acd.AcdStore) -> acd.Acd:
    """The engine over ``store`` with the configured agents upserted (their stored state kept)."""
    engine = acd.Acd(config.queues, store=store)
    sync_roster(store, config.agents)
    return engine


def build_acd_runtime(
    settings: Settings,
    client: AriClient,
    *,
    facts: AcdFactSink | None = None,
    options: RuntimeOptions | None = None,
    clock: Callable[[], float] = time.time,
    config: acd.AcdConfig | None = None,
    store: acd.AcdStore | None = None,
) -> AcdRuntime:
    """A runtime over ``config``, by default the agents and queues of ``settings.agents_file`` (raises
    ``acd.AcdConfigError``), on ``store`` (default: a memory store); ``clock`` is the service's clock
    in epoch seconds. This touches the store on the calling thread: ``acd_runtime`` does it off the
    event loop."""
    config = config or acd.load_acd_config(settings.agents_file)
    store = store if store is not None else acd.MemoryStore()
    return AcdRuntime(_engine(config, store), client, facts=facts, options=options, clock=clock,
                      node=settings.node_id or None, recover=not isinstance(store, acd.MemoryStore))


@contextlib.asynccontextmanager
async def acd_runtime(
    settings: Settings,
    client: AriClient,
    *,
    facts: AcdFactSink | None = None,
    options: RuntimeOptions | None = None,
    clock: Callable[[], float] = time.time,
    node_lost: NodeLost | None = None,
    recordings: RecordingSink | None = None,
    callbacks: CallbackBook | None = None,
    relayed: frozenset[RuntimeEventKind] = frozenset(),
) -> AsyncIterator[AcdRuntime]:
    """The runtime on the store of ``settings.acd_store`` with its tick loop running; on exit the loop
    is cancelled (bounded wait), the worker thread stopped and the store closed.

    A node of several (``settings.node_id`` on PostgreSQL) also listens for the other nodes' changes
    (``acd.live.notify``) and events (``acd.live.node_bus``) and keeps a heartbeat lease;
    ``node_lost(node)`` closes the call rows of a node released after its lease expired.

    The configured agents are registered with ``facts`` first (names and endpoints for the reports).
    Queues with ``record: true`` are recorded from Asterisk's spool (``settings.recordings_dir``) into
    ``settings.call_recordings_dir`` (``runtime_options``); ``recordings`` stores the rows.
    ``callbacks``: the runtime places the booked callbacks (``acd.live.dialer``); ``options`` default to
    ``runtime_options(settings)``. Several nodes also send each other their runtime events
    (``acd.live.node_bus``); ``relayed`` names the kinds the caller sends itself (``AcdRuntime.share``).
    """
    options = options or runtime_options(settings)
    config = acd.load_acd_config(settings.agents_file)
    store = open_acd_store(settings)
    try:
        engine = await asyncio.to_thread(_engine, config, store)  # reads and writes the store
        runtime = AcdRuntime(engine, client, facts=facts, options=options, clock=clock,
                             node=settings.node_id or None, recover=not isinstance(store, acd.MemoryStore),
                             node_lost=node_lost, recordings=recordings, callbacks=callbacks)
        await runtime.start()
        listener = sender = sharing = None
        if isinstance(store, SqlStore) and _shared(settings, store):
            bus, sender = _node_bus(settings, store, runtime, relayed)
            sharing = asyncio.create_task(bus.run(), name="acd-events-share")
            listener = await _listen(settings, store, runtime, bus)
        if facts is not None:
            await facts.register_agents(config.agents)
        ticker = asyncio.create_task(runtime.run(), name="acd-tick")
        try:
            yield runtime
        finally:
            ticker.cancel()
            timeout = options.shutdown_timeout + 1
            await asyncio.wait([ticker], timeout=timeout)
            if listener is not None:
                await asyncio.to_thread(listener.stop)
            if sharing is not None:
                sharing.cancel()
                await asyncio.wait([sharing], timeout=timeout)
            if sender is not None:
                await asyncio.to_thread(sender.stop)
            await asyncio.to_thread(runtime.close)
    finally:
        if isinstance(store, SqlStore):
            store.close()
