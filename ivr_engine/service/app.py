"""The Stasis application: one tracked asyncio task per call, routed by the dialled number.

Flow of an event: the WebSocket reader calls :meth:`IvrService.on_event`, which logs it (``events.jsonl``,
in batches: a call's lines are on disk by the time it ends), starts a call task on a new StasisStart,
and queues the event for its call.
A handler that raises makes the caller hear a short apology before the hangup; the service carries on.
After every (re)connect each live call gets a ``Recheck`` (a call waiting for the end of a playback or
a recording asks ARI whether it came while the WebSocket was down), and a resync (``resync.Resync``)
compares Asterisk's channels with our calls: vanished calls are told (``ChannelVanished``; their
disposition is ``vanished``), channels in our app without a task are offered to the ``orphan_hook`` (the
ACD adopts its waiting and bridged callers; disposition ``adopted``) and otherwise get the apology and
are hung up; call rows left open are closed then and by periodic sweeps (``start_sweeps``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence, Set

from ivr_engine.ari.channel import AriChannel
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.dispatch import CallRouter, channel_of
from ivr_engine.ari.errors import AriError
from ivr_engine.ari.events import (
    UNREAD_EVENTS,
    AriEvent,
    ChannelSnapshot,
    ChannelVanished,
    Recheck,
    StasisStart,
    event_type,
)
from ivr_engine.ari.lengths import MediaLengths
from ivr_engine.ari.media import MediaResolver
from ivr_engine.calls import ORIGINATED_MARKER, CallHandler, CallInfo
from ivr_engine.channel import CallerHungUp, Channel, ChannelError
from ivr_engine.flow.ports import CallRecord, CallStore
from ivr_engine.logs import fields
from ivr_engine.service.eventlog import EventLog
from ivr_engine.service.options import ServiceOptions
from ivr_engine.service.resync import Resync, ResyncHook, StaleCalls

__all__ = ["APOLOGY", "IvrService", "OrphanHook", "ResyncHook", "ServiceOptions", "StaleCalls"]

log = logging.getLogger(__name__)

APOLOGY: tuple[str, ...] = ("sound:im-sorry", "sound:please-try-call-later")
"""Core sounds: "I'm sorry... please try your call again later"."""

OrphanHook = Callable[[Channel, CallInfo], Awaitable[bool]]
"""A channel in our app that no task owns: serve it to the end and say True, or say False at once."""


class IvrService:
    """Runs calls for one Stasis app. Feed it events (``on_event``/``on_connected``) from an EventStream.

    ``event_tap`` sees every event before routing (the ACD watches its agent legs, which have no call
    task until they answer); it must not block.
    """

    def __init__(
        self,
        client: AriClient,
        resolver: MediaResolver,
        *,
        handlers: Mapping[str, CallHandler],
        default_handler: CallHandler | None = None,
        originated_hook: CallHandler | None = None,
        event_tap: Callable[[AriEvent], None] | None = None,
        call_store: CallStore | None = None,
        event_log: EventLog | None = None,
        options: ServiceOptions | None = None,
        stale_calls: StaleCalls | None = None,
        resync_hook: ResyncHook | None = None,
        orphan_hook: OrphanHook | None = None,
        hand_over_hook: Callable[[], Set[str]] | None = None,
    ) -> None:
        self._client = client
        self._resolver = resolver
        self._handlers = dict(handlers)
        self._default = default_handler
        self._originated = originated_hook
        self._tap = event_tap
        self._store = call_store
        self._event_log = event_log
        self._options = options or ServiceOptions()
        self._orphan_hook = orphan_hook
        self._hand_over_hook = hand_over_hook
        self._handed_over: Set[str] = frozenset()
        self._vanished: set[str] = set()
        self._lengths = MediaLengths(language=self._options.language)
        self._router = CallRouter()
        self._calls: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._resync = Resync(
            client,
            self._options,
            known=self._router.channel_ids,
            vanished=self._channels_vanished,
            start_orphan=lambda snapshot: self._start_call(snapshot, (), orphan=True),
            stale_calls=stale_calls,
            resync_hook=resync_hook,
        )
        self.calls_started = 0
        self.handler_errors = 0

    @property
    def active_calls(self) -> frozenset[str]:
        return frozenset(self._calls)

    # -- events -----------------------------------------------------------------------------------

    def on_event(self, event: AriEvent) -> None:
        """Handle one event from the reader; never blocks, never raises."""
        channel_id = channel_of(event)
        if self._event_log is not None:
            try:
                self._event_log.append(event, channel_id)
            except OSError as exc:
                log.error(fields("service.eventlog.failed", error=str(exc)))
        # One line per ARI event is debug detail (an operator gets ``call.step`` per node); never the
        # DTMF digit: a caller's PIN or account number must not be readable from the log.
        if log.isEnabledFor(logging.DEBUG):
            log.debug(fields("call.event", type=event_type(event), channel=channel_id or "-"))
        if self._tap is not None:
            try:
                self._tap(event)
            except Exception as exc:  # a failing observer must not stop event delivery
                log.error(fields("service.event_tap.failed", error=f"{type(exc).__name__}: {exc}"))
        if isinstance(event, StasisStart) and event.channel.id not in self._router:
            self._start_call(event.channel, event.args)
            return
        self._router.deliver(event)

    def on_connected(self, connection: int) -> None:
        """Called by the event stream after each connect: every live call re-checks what it waits for
        (events may have been lost while the WebSocket was down); resync in the background."""
        for channel_id in self._router.channel_ids():
            self._router.deliver(Recheck(channel_id))
        self._spawn(self._filter_events(connection), f"event-filter-{connection}")
        self._spawn(self._resync.after_connect(connection), f"resync-{connection}")

    def _channels_vanished(self, channel_ids: Set[str]) -> None:
        """The resync found these calls' channels gone from Asterisk: their disposition is ``vanished``."""
        self._vanished |= channel_ids
        for channel_id in channel_ids:
            self._router.deliver(ChannelVanished(channel_id))

    def start_sweeps(self) -> None:
        """Sweep call rows left ``in_progress`` until ``shutdown`` (``Resync.start_sweeps``)."""
        self._resync.start_sweeps()

    async def sweep_once(self) -> bool:
        """One sweep of stale call rows; False when ARI or the database did not answer."""
        return await self._resync.sweep_once()

    async def _filter_events(self, connection: int) -> None:
        """Ask Asterisk to keep the events no part of the service reads (``UNREAD_EVENTS``); the filter
        lives with the app, which a restarted Asterisk makes anew: asked after every connect."""
        try:
            await self._client.filter_events(UNREAD_EVENTS)
        except AriError as exc:  # every event still comes, as before: nothing is lost
            log.warning(fields("service.event_filter.failed", connection=connection, error=str(exc)))

    # -- calls ------------------------------------------------------------------------------------

    def _pick(self, args: Sequence[str], snapshot: ChannelSnapshot) -> tuple[str, CallHandler | None]:
        dialled = args[0] if args else snapshot.exten
        if dialled == ORIGINATED_MARKER:
            return dialled, self._originated
        return dialled, self._handlers.get(dialled, self._default)

    def _start_call(self, snapshot: ChannelSnapshot, args: Sequence[str], *, orphan: bool = False) -> None:
        queue = self._router.open(snapshot.id)
        dialled, handler = self._pick(args, snapshot)
        channel = AriChannel(
            self._client,
            snapshot,
            queue,
            self._resolver,
            dialled=dialled,
            recordings_dir=self._options.recordings_dir,
            language=self._options.language,
            lengths=self._lengths,
            bounds=self._options.wait_bounds,
        )
        call = CallInfo(
            call_id=snapshot.id,
            channel_id=snapshot.id,
            caller=snapshot.caller_number,
            dialled=dialled,
            args=tuple(args),
            started=self._options.clock.now(),
        )
        self.calls_started += 1
        task = asyncio.create_task(self._run_call(channel, call, None if orphan else handler, orphan))
        task.set_name(f"call-{snapshot.id}")
        self._calls[snapshot.id] = task
        task.add_done_callback(self._call_done)

    def _call_done(self, task: asyncio.Task[None]) -> None:
        self._calls.pop(task.get_name().removeprefix("call-"), None)
        if not task.cancelled() and task.exception() is not None:
            log.error(fields("call.task_failed", task=task.get_name(), error=str(task.exception())))

    async def _run_call(
        self, channel: AriChannel, call: CallInfo, handler: CallHandler | None, orphan: bool
    ) -> None:
        disposition = "completed"
        log.info(fields("call.started", call=call.call_id, caller=call.caller, dialled=call.dialled))
        stored = call.dialled != ORIGINATED_MARKER  # an agent leg is part of its caller's call
        if stored:
            await self._store_call(call.call_id, started=call)
        try:
            if orphan and self._orphan_hook is not None and await self._orphan_hook(channel, call):
                disposition = "adopted"
            elif handler is None:
                disposition = "orphan" if orphan else "no_handler"
                log.warning(fields("call.unrouted", call=call.call_id, dialled=call.dialled, orphan=orphan))
                await self._apologise(channel)
            else:
                await handler(channel, call)
        except CallerHungUp:
            disposition = "vanished" if call.channel_id in self._vanished else "caller_hangup"
        except asyncio.CancelledError:
            if call.channel_id in self._handed_over:
                disposition = "handed_over"  # left in Asterisk, its row open: the next run adopts it
                raise
            disposition = "shutdown"
            await self._finish(channel)
            raise
        except Exception as exc:
            self.handler_errors += 1
            disposition = "error"
            log.error(fields("call.handler_failed", call=call.call_id, error=f"{type(exc).__name__}: {exc}"),
                      exc_info=True)
            await self._apologise(channel)
        finally:
            if disposition not in ("shutdown", "handed_over"):
                await self._finish(channel)
            self._router.close(call.channel_id)
            self._vanished.discard(call.channel_id)
            log.info(fields("call.ended", call=call.call_id, disposition=disposition))
            if self._event_log is not None:
                self._event_log.flush()  # an ended call's lines are on disk (the log batches its writes)
            if stored and disposition != "handed_over":
                await self._store_call(call.call_id, disposition=disposition)

    async def _apologise(self, channel: AriChannel) -> None:
        """A short apology (never dead air), bounded in time; the caller may already be gone."""
        with contextlib.suppress(CallerHungUp, ChannelError, TimeoutError):
            async with asyncio.timeout(self._options.apology_timeout):
                await channel.answer()
                await channel.play_uris(APOLOGY)

    async def _finish(self, channel: Channel) -> None:
        with contextlib.suppress(ChannelError, CallerHungUp, TimeoutError):
            async with asyncio.timeout(self._options.apology_timeout):
                await channel.hangup()

    async def _store_call(
        self, call_id: str, *, started: CallInfo | None = None, disposition: str = ""
    ) -> None:
        if self._store is None:
            return
        try:
            if started is not None:
                await self._store.call_started(
                    CallRecord(call_id, started.caller, started.dialled, started.started)
                )
            else:
                await self._store.call_ended(call_id, self._options.clock.now(), disposition)
        except Exception as exc:  # storage trouble must never cost a call
            log.error(fields("call.store_failed", call=call_id, error=f"{type(exc).__name__}: {exc}"))

    # -- lifecycle --------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[object, object, None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._reap)

    def _reap(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(fields("service.task_failed", task=task.get_name(), error=str(task.exception())))

    async def wait_idle(self) -> None:
        """Wait until no call or background task runs (tests)."""
        while self._calls or self._background:
            await asyncio.gather(*self._calls.values(), *self._background, return_exceptions=True)

    async def shutdown(self) -> None:
        """Cancel every call and wait at most ``shutdown_timeout``. Each hangs up its channel, except
        the calls the ``hand_over_hook`` names (the ACD's callers and agent legs, when a later run can
        take them back): those are left in Asterisk, their rows open, as ``kill -9`` would leave them."""
        if self._hand_over_hook is not None:
            self._handed_over = frozenset(self._hand_over_hook()) & set(self._calls)
            if self._handed_over:
                log.info(fields("service.handing_over", calls=len(self._handed_over)))
        tasks = [*self._calls.values(), *self._background]
        sweeper = self._resync.stop_sweeps()
        if sweeper is not None:
            tasks.append(sweeper)
        for task in tasks:
            task.cancel()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=self._options.shutdown_timeout)
            if pending:
                log.warning(fields("service.shutdown.stragglers", count=len(pending)))
        log.info(fields("service.stopped", calls=self.calls_started, handler_errors=self.handler_errors))
