"""The Stasis application: one tracked asyncio task per call, routed by the dialled number.

Flow of an event: the WebSocket reader calls :meth:`IvrService.on_event`, which logs it (``events.jsonl``,
in batches: a call's lines are on disk by the time it ends), starts a call task on a new StasisStart,
and queues the event for its call.
A handler that raises makes the caller hear a short apology before the hangup; the service carries on.
After every (re)connect each live call gets a ``Recheck`` (a call waiting for the end of a playback or
a recording asks ARI whether it came while the WebSocket was down), and a resync compares Asterisk's
channels with our calls: vanished calls are told (``ChannelVanished``; their disposition is
``vanished``), the ``resync_hook`` sees the channels and bridges (the ACD settles what its store kept
from an earlier run), channels in our app without a task are offered to the ``orphan_hook`` (the ACD
adopts its waiting and bridged callers; disposition ``adopted``) and otherwise get the apology and are
hung up, empty bridges of our app are destroyed, and call rows still open from before (a service that
died, channels lost with Asterisk) are closed through the ``stale_calls`` port. That last step also runs
on its own every ``sweep_interval`` seconds (``start_sweeps``), and every ``sweep_retry`` seconds while
the database or ARI does not answer, so no row stays ``in_progress`` because the database was down at
the resync.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ivr_engine.ari.channel import AriChannel, WaitBounds
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.dispatch import CallRouter, channel_of
from ivr_engine.ari.errors import AriError, AriNotFound
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
from ivr_engine.ari.stream import Backoff
from ivr_engine.calls import ORIGINATED_MARKER, CallHandler, CallInfo, Resynced
from ivr_engine.channel import CallerHungUp, Channel, ChannelError
from ivr_engine.clock import ServiceClock
from ivr_engine.flow.ports import CallRecord, CallStore, Clock
from ivr_engine.logs import fields
from ivr_engine.service.eventlog import EventLog

__all__ = ["APOLOGY", "IvrService", "OrphanHook", "ResyncHook", "ServiceOptions", "StaleCalls"]

log = logging.getLogger(__name__)

APOLOGY: tuple[str, ...] = ("sound:im-sorry", "sound:please-try-call-later")
"""Core sounds: "I'm sorry... please try your call again later"."""

StaleCalls = Callable[[Set[str], datetime], Awaitable[Sequence[str]]]
"""Close open call rows whose channel is not in the set and that started before the time; their ids."""
ResyncHook = Callable[[Set[str], Mapping[str, Sequence[str]]], Awaitable[Resynced]]
"""After a (re)connect: Asterisk's channel ids and bridges (bridge id -> channel ids) of our app; returns
the channels the hook looks after without a call task (agent legs still ringing), not orphans, and the
orphans it claims from an earlier run (taken back at once, before the orphan grace)."""
OrphanHook = Callable[[Channel, CallInfo], Awaitable[bool]]
"""A channel in our app that no task owns: serve it to the end and say True, or say False at once."""


@dataclass(frozen=True)
class ServiceOptions:
    recordings_dir: Path = Path("/var/spool/asterisk/recording")
    language: str = "en"
    shutdown_timeout: float = 5.0
    apology_timeout: float = 10.0
    orphan_grace: float = 0.5
    clock: Clock = field(default_factory=ServiceClock)
    """The service's one clock: calls rows are stamped with it."""
    sweep_interval: float = 60.0
    """Seconds between sweeps of call rows left ``in_progress`` (see ``start_sweeps``)."""
    sweep_retry: float = 5.0
    """Seconds before the next sweep when the last one could not run (database or ARI down)."""
    wait_bounds: WaitBounds = field(default_factory=WaitBounds)
    """How long a call waits for a playback or recording event before asking ARI (see AriChannel)."""
    resync_backoff: Backoff = field(default_factory=lambda: Backoff(0.25, 2.0, 5.0))
    """Pause before each new try of a resync whose requests failed (0.25 s doubling to 5 s), until one
    runs or a newer connection's resync takes over: orphans wait in silence until a resync finds them."""


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
        self._stale_calls = stale_calls
        self._resync_hook = resync_hook
        self._orphan_hook = orphan_hook
        self._hand_over_hook = hand_over_hook
        self._handed_over: Set[str] = frozenset()
        self._vanished: set[str] = set()
        self._lengths = MediaLengths(language=self._options.language)
        self._router = CallRouter()
        self._calls: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._sweep_due = asyncio.Event()  # a sweep or resync could not close stale rows: retry soon
        self._connection = 0  # the events stream's latest connection (its resync is the one that counts)
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
        self._connection = connection
        for channel_id in self._router.channel_ids():
            self._router.deliver(Recheck(channel_id))
        self._spawn(self._filter_events(connection), f"event-filter-{connection}")
        self._spawn(self._resync(connection), f"resync-{connection}")

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

    # -- resync -----------------------------------------------------------------------------------

    async def _resync(self, connection: int) -> None:
        """Match Asterisk's channels and bridges after a (re)connect. Its requests are tried again after
        ``resync_backoff`` until they are answered (Asterisk may answer 500 while it makes the app anew
        after a cut) or a newer connection's resync takes over."""
        attempt = 0
        while True:
            began = self._options.clock.now()
            known_before = self._router.channel_ids()
            try:
                existing = {c.id for c in await self._client.list_channels()}
                app = await self._client.get_application()
                bridges = await self._client.list_bridges()
                break
            except AriError as exc:
                attempt += 1
                pause = self._options.resync_backoff.delay(attempt)
                loud = attempt <= 3 or attempt % 12 == 1  # while ARI stays down: about once a minute
                log.log(logging.WARNING if loud else logging.DEBUG,
                        fields("service.resync.failed", connection=connection, attempt=attempt,
                               error=str(exc), retry_in=pause))
            await asyncio.sleep(pause)
            if connection != self._connection:
                return  # a newer connection runs its own resync
        vanished = known_before - existing
        self._vanished |= vanished
        for channel_id in vanished:
            self._router.deliver(ChannelVanished(channel_id))
        resynced = Resynced()
        if self._resync_hook is not None:
            ours = {b.id: list(b.channels) for b in bridges if b.id in app.bridge_ids}
            try:
                resynced = await self._resync_hook(existing, ours)
            except Exception as exc:  # e.g. the ACD's database is down: orphans are still dealt with
                log.error(fields("service.resync.hook_failed", error=f"{type(exc).__name__}: {exc}"))
        in_app = {c for c in app.channel_ids if c in existing}
        claimed = (in_app & resynced.claimed) - self._router.channel_ids()
        await self._start_orphans(claimed)  # known from an earlier run: no StasisStart can be on its way
        await asyncio.sleep(self._options.orphan_grace)  # let StasisStarts already on the wire arrive
        orphans = in_app - self._router.channel_ids() - resynced.looked_after - claimed
        await self._start_orphans(orphans)
        orphans |= claimed
        emptied = [b.id for b in bridges if b.id in app.bridge_ids and not b.channels]
        for bridge_id in emptied:
            with contextlib.suppress(AriNotFound):
                await self._client.destroy_bridge(bridge_id)
        closed = await self._close_stale_calls(existing | self._router.channel_ids(), began)
        log.info(fields("service.resync", connection=connection, vanished=len(vanished),
                        orphans=len(orphans), bridges_destroyed=len(emptied),
                        rows_closed="not now" if closed is None else closed))

    async def _start_orphans(self, channel_ids: Set[str]) -> None:
        """Start a call task (orphan: the ``orphan_hook`` first) for each channel still there."""
        for channel_id in channel_ids:
            try:
                snapshot = await self._client.get_channel(channel_id)
            except AriError:
                continue
            self._start_call(snapshot, (), orphan=True)

    async def _close_stale_calls(self, alive: Set[str], began: datetime) -> int | None:
        """Close open rows not in ``alive`` that started before ``began``; how many (None: it failed)."""
        if self._stale_calls is None:
            return 0
        try:
            closed = await self._stale_calls(alive, began)
        except Exception as exc:  # the database may be down too; the sweep tries again
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.warning(fields("service.stale_rows.not_closed", error=reason))
            self._sweep_due.set()
            return None
        for call_id in closed:
            log.warning(fields("call.closed_stale", call=call_id))
        return len(closed)

    def start_sweeps(self) -> None:
        """Sweep stale call rows every ``sweep_interval`` s, and ``sweep_retry`` s after a sweep or a
        resync could not, until ``shutdown``. (The resync after each connect sweeps first.)"""
        if self._sweeper is None and self._stale_calls is not None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="stale-call-sweep")

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._sweep_due.wait(), self._options.sweep_interval)
            except TimeoutError:
                pass
            else:
                await asyncio.sleep(self._options.sweep_retry)
            self._sweep_due.clear()
            if not await self.sweep_once():
                self._sweep_due.set()

    async def sweep_once(self) -> bool:
        """One sweep: rows whose channel is neither in Asterisk nor a call of ours are closed as
        ``lost``. False when it could not run (ARI or the database did not answer)."""
        began = self._options.clock.now()
        try:
            existing = {c.id for c in await self._client.list_channels()}
        except AriError as exc:
            log.info(fields("service.sweep.skipped", error=str(exc)))  # cannot tell who is alive
            return False
        closed = await self._close_stale_calls(existing | self._router.channel_ids(), began)
        if closed:
            log.info(fields("service.sweep", rows_closed=closed))
        return closed is not None

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
        if self._sweeper is not None:
            tasks.append(self._sweeper)
            self._sweeper = None
        for task in tasks:
            task.cancel()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=self._options.shutdown_timeout)
            if pending:
                log.warning(fields("service.shutdown.stragglers", count=len(pending)))
        log.info(fields("service.stopped", calls=self.calls_started, handler_errors=self.handler_errors))
