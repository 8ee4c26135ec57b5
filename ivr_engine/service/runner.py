"""Wiring for ``ivr serve``: the composition root.

Settings -> ARI client, stores, ACD runtime, flows, control API and screen-pops, the Stasis service and
its event stream; run until told to stop, then shut down in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from datetime import timedelta
from pathlib import Path

from acd.live.api import RuntimeEventKind
from acd.live.wiring import acd_runtime
from acd.records.dialing import SqlCallbackBook
from acd.records.recorder import AcdRecorder
from ivr_engine.ari.client import AriClient, AriConfig
from ivr_engine.ari.media import Synthesiser, default_resolver
from ivr_engine.ari.stream import Backoff, EventStream
from ivr_engine.centre import centre_time
from ivr_engine.clock import ServiceClock, clock_from_setting
from ivr_engine.config import ConfigError, Settings
from ivr_engine.control.app import make_control_app
from ivr_engine.control.hosts import allowed_hosts
from ivr_engine.control.server import start_control_server
from ivr_engine.control.token import control_token
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.ports import Clock, NodeEventSink, Transferrer
from ivr_engine.flow.services import BusyTransferrer, FlowServices
from ivr_engine.logfiles import Rotation
from ivr_engine.logs import fields
from ivr_engine.metrics import CountingNodeLog, MetricsSources, add_metrics_route
from ivr_engine.prompts import TtsCache, catalogue_path, default_cache_dir, load_catalogue
from ivr_engine.recordings.retention import keep_sweeping
from ivr_engine.recordings.store import RecordingStore
from ivr_engine.screenpop.service import ScreenPopService
from ivr_engine.service.app import IvrService, ServiceOptions
from ivr_engine.service.eventlog import EventLog
from ivr_engine.service.flows import flow_handlers
from ivr_engine.service.lost_node import LostNode, close_lost_node
from ivr_engine.service.steplog import LoggedNodeLog
from ivr_engine.storage import DatabaseUnavailable, Stores, open_stores
from ivr_engine.storage.database import Database, ErrorKind
from ivr_engine.storage.migrate import require_head
from ivr_engine.storage.sweep import close_stale_calls_once_written
from ivr_engine.web import UserFile, add_web_routes
from ivr_engine.web.call_controls import add_call_control_routes
from ivr_engine.web.forward import add_node_forwarding
from ivr_engine.web.monitor import add_monitor_route
from ivr_engine.web.recordings import add_recording_routes
from ivr_engine.web.voicemail import add_voicemail_routes
from ivr_engine.web.wallboard import ServiceLevelBands
from ivr_engine.web.work_orders import add_work_order_routes
from ivr_engine.workorders.policy import load_policy
from ivr_engine.workorders.screenpop import open_work_orders, return_visit
from ivr_engine.workorders.visits import visit_given_up

__all__ = ["build_flow_services", "recordings_dir", "run_service"]

log = logging.getLogger(__name__)


def recordings_dir(settings: Settings) -> Path:
    """Where the lab's Asterisk writes named recordings (``Settings.recordings_dir``)."""
    return settings.recordings_dir


def service_level_bands(settings: Settings) -> ServiceLevelBands:
    """The wallboard's service-level colours from settings; ConfigError names the settings."""
    try:
        return ServiceLevelBands(settings.service_level_target, settings.service_level_warning)
    except ValueError as exc:
        raise ConfigError(f"service_level_target/service_level_warning: {exc}") from exc


def build_flow_services(
    settings: Settings,
    stores: Stores,
    *,
    transferrer: Transferrer | None = None,
    clock: Clock | None = None,
    node_log: NodeEventSink | None = None,
    recorded_queues: frozenset[str] = frozenset(),
) -> tuple[FlowLibrary, FlowServices]:
    """The flows of ``settings.flows_dir`` and the ports they run on (raises FlowError if broken)."""
    library = FlowLibrary.from_paths([settings.flows_dir])
    services = FlowServices(
        lookups=stores.lookups,
        node_log=node_log or stores.node_log,
        surveys=stores.surveys,
        voicemails=stores.voicemails,
        catalogue=load_catalogue(catalogue_path(settings.sounds_dir)),
        flows=library,
        transferrer=transferrer or BusyTransferrer(),
        clock=clock or clock_from_setting(settings.clock_start, settings.clock_anchor),
        language=settings.language,
        recorded_queues=recorded_queues,
    )
    return library, services


def _same(synthesiser: Synthesiser, lang: str) -> Synthesiser:
    return synthesiser


async def run_service(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    synthesiser: Synthesiser | None = None,
    backoff: Backoff | None = None,
) -> IvrService:
    """Serve calls until ``stop`` is set (or SIGTERM/SIGINT when ``stop`` is None); clean shutdown.

    Every service number runs its YAML flow over the database stores; transfers go to the ACD, whose
    agents are driven through the control API on ``settings.http_host:http_port``.
    """
    stop = stop or _signal_event()
    config = AriConfig.from_settings(settings)
    clock = clock_from_setting(settings.clock_start, settings.clock_anchor)
    work_orders = load_policy(settings.workorders_file)  # a bad file stops the start, naming its line
    bands = service_level_bands(settings)
    if synthesiser is None:
        tts = TtsCache(default_cache_dir(settings.state_dir))
        synthesiser, synthesisers = tts.for_language(settings.language), tts.for_language
    else:  # injected (tests): it speaks every language
        synthesisers = functools.partial(_same, synthesiser)
    async with contextlib.AsyncExitStack() as stack:
        client = AriClient.open(config)
        stack.push_async_callback(client.close)
        stores = await stack.enter_async_context(open_stores(settings, clock=clock))
        await _check_schema(stores)
        await asyncio.to_thread(stores.lookups.pins.key_file.key)  # a bad PIN key file stops the start
        recorder = AcdRecorder(stores.database)
        runtime = await stack.enter_async_context(
            acd_runtime(settings, client, facts=recorder, clock=clock.epoch,
                        node_lost=functools.partial(_close_lost_node, stores.database, clock),
                        recordings=RecordingStore(stores.database),
                        callbacks=SqlCallbackBook(stores.database, node=settings.node_id,
                                                  given_up=visit_given_up),
                        relayed=frozenset({RuntimeEventKind.ANSWERED}))  # screen-pops relay them
        )
        node_log = CountingNodeLog(LoggedNodeLog(stores.node_log))
        recorded = frozenset(q.name for q in runtime.engine.queues.values() if q.record)
        library, services = build_flow_services(
            settings, stores, transferrer=runtime, node_log=node_log, clock=clock, recorded_queues=recorded
        )
        centre = centre_time(settings, library)
        handlers = flow_handlers(library, settings.service_numbers, services)
        log.info(fields("service.flows", flows=",".join(library.names()), numbers=len(handlers),
                        timezone=centre.name, clock=clock.now().isoformat(timespec="seconds")))

        event_log = EventLog(settings.state_dir / "events.jsonl", Rotation.of(settings), clock)
        event_log.open()
        stack.callback(event_log.close)
        service = IvrService(
            client,
            default_resolver(
                settings.sounds_dir, settings.language, synthesiser=synthesiser, synthesisers=synthesisers
            ),
            handlers=handlers,
            originated_hook=runtime.originated_hook,
            event_tap=runtime.on_ari_event,
            resync_hook=runtime.resynced,
            orphan_hook=runtime.adopt,
            hand_over_hook=runtime.hand_over,
            call_store=stores.calls,
            event_log=event_log,
            options=ServiceOptions(
                recordings_dir=recordings_dir(settings), language=settings.language, clock=clock
            ),
            stale_calls=functools.partial(
                close_stale_calls_once_written, stores.writer, stores.database, node=settings.node_id or None
            ),
        )
        stream = EventStream(
            config, client.session, on_event=service.on_event, on_connected=service.on_connected,
            backoff=backoff,
        )  # fmt: skip

        screenpops = ScreenPopService(stores.database, node_log=stores.node_log, work_orders=open_work_orders,
                                      visits=return_visit)
        await screenpops.restore(clock.now() - SCREENPOP_RESTORE_WINDOW)
        control = make_control_app(runtime, screenpops, control_token(settings), clock=clock.epoch,
                                   allowed_hosts=allowed_hosts(settings))
        add_metrics_route(control, MetricsSources(
            active_calls=lambda: len(service.active_calls),
            handler_errors=lambda: service.handler_errors,
            calls_started=lambda: service.calls_started,
            ari_reconnects=lambda: stream.reconnects,
            acd=runtime,
            node_log=node_log,
            pending_writes=lambda: stores.writer.pending,
            dead_letters=lambda: stores.writer.dead_lettered,
            storage_alarm=lambda: stores.writer.last_error is ErrorKind.ALARM,
        ))  # fmt: skip
        users = UserFile.in_state_dir(settings.state_dir)
        add_web_routes(control, database=stores.database, users=users, recorder=recorder, centre=centre,
                       bands=bands)
        add_call_control_routes(control, runtime.calls)
        add_work_order_routes(control, work_orders)
        add_voicemail_routes(control, settings.recordings_dir)
        add_recording_routes(control, settings.call_recordings_dir)
        add_monitor_route(control, runtime.monitor, users)
        if settings.node_id:  # several nodes: controls for a call another node holds go there
            add_node_forwarding(control, runtime.holder_of, node=settings.node_id)
        http = await start_control_server(control, settings)
        stack.push_async_callback(http.cleanup)
        popper = asyncio.create_task(screenpops.run(runtime.subscribe(), runtime.share), name="screenpops")
        stack.push_async_callback(_cancel, popper)
        retention = asyncio.create_task(
            keep_sweeping(stores.database, clock.now, settings.recording_retention_days), name="retention"
        )
        stack.push_async_callback(_cancel, retention)

        log.info(fields("service.starting", ari=config.base_url, app=config.app_name,
                        http=f"{settings.http_host}:{settings.http_port}"))
        reader = asyncio.create_task(stream.run(), name="ari-events")
        service.start_sweeps()
        try:
            await stop.wait()
        finally:
            log.info(fields("service.stopping", reconnects=stream.reconnects))
            await _cancel(reader)
            await service.shutdown()
    return service


SHUTDOWN_WAIT = 5.0
SCREENPOP_RESTORE_WINDOW = timedelta(hours=12)
"""On start, agents get back the screen-pop of their latest call answered this long ago or less."""


async def _close_lost_node(database: Database, clock: ServiceClock, node: str) -> LostNode:
    """The ACD released ``node`` (its lease expired): its open call rows are closed ``node_lost`` and
    the callbacks it was dialling go back in line."""
    return await close_lost_node(database, clock.now(), node)


async def _check_schema(stores: Stores) -> None:
    """Refuse to serve on a schema behind the head (MigrationError); a database that is down is only
    logged: calls still run and their writes wait in the write-behind queue."""
    try:
        await asyncio.to_thread(require_head, stores.database)
    except DatabaseUnavailable as exc:
        log.warning(fields("service.database_unavailable", error=str(exc)))


async def _cancel(task: asyncio.Task[None]) -> None:
    """Cancel a background task and wait for it, bounded."""
    task.cancel()
    await asyncio.wait([task], timeout=SHUTDOWN_WAIT)


def _signal_event() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, event.set)
    return event
