"""Matching Asterisk and the database with the service's calls, after each (re)connect and on a timer.

A resync compares Asterisk's channels with our calls: vanished calls are told (through ``vanished``),
the ``resync_hook`` sees the channels and bridges (the ACD settles what its store kept from an earlier
run), channels in our app without a task are started as orphans (``start_orphan``: the ACD adopts its
waiting and bridged callers, the others hear the apology), empty bridges of our app are destroyed, and
call rows still open from before (a service that died, channels lost with Asterisk) are closed through
the ``stale_calls`` port. That last step also runs on its own every ``sweep_interval`` seconds
(``start_sweeps``), and every ``sweep_retry`` seconds while the database or ARI does not answer, so no
row stays ``in_progress`` because the database was down at the resync.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence, Set
from datetime import datetime

from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError, AriNotFound
from ivr_engine.ari.events import ChannelSnapshot
from ivr_engine.calls import Resynced
from ivr_engine.logs import fields
from ivr_engine.service.options import ServiceOptions

__all__ = ["Resync", "ResyncHook", "StaleCalls"]

log = logging.getLogger(__name__)

StaleCalls = Callable[[Set[str], datetime], Awaitable[Sequence[str]]]
"""Close open call rows whose channel is not in the set and that started before the time; their ids."""
ResyncHook = Callable[[Set[str], Mapping[str, Sequence[str]]], Awaitable[Resynced]]
"""After a (re)connect: Asterisk's channel ids and bridges (bridge id -> channel ids) of our app; returns
the channels the hook looks after without a call task (agent legs still ringing), not orphans, and the
orphans it claims from an earlier run (taken back at once, before the orphan grace)."""


class Resync:
    """The service's resync and stale-row sweeps. ``known()`` is the channels with a call task now;
    ``vanished(ids)`` tells those calls their channel is gone; ``start_orphan`` starts a call task for a
    channel in our app that no task owns."""

    def __init__(
        self,
        client: AriClient,
        options: ServiceOptions,
        *,
        known: Callable[[], Set[str]],
        vanished: Callable[[Set[str]], None],
        start_orphan: Callable[[ChannelSnapshot], None],
        stale_calls: StaleCalls | None = None,
        resync_hook: ResyncHook | None = None,
    ) -> None:
        self._client = client
        self._options = options
        self._known = known
        self._vanished = vanished
        self._start_orphan = start_orphan
        self._stale_calls = stale_calls
        self._resync_hook = resync_hook
        self._connection = 0  # the events stream's latest connection (its resync is the one that counts)
        self._sweeper: asyncio.Task[None] | None = None
        self._sweep_due = asyncio.Event()  # a sweep or resync could not close stale rows: retry soon

    def after_connect(self, connection: int) -> Coroutine[object, object, None]:
        """The resync for a (re)connect, to run in the background; from now on ``connection`` is the
        latest (an older resync still trying gives up)."""
        self._connection = connection
        return self._run(connection)

    async def _run(self, connection: int) -> None:
        """Match Asterisk's channels and bridges. Its requests are tried again after ``resync_backoff``
        until they are answered (Asterisk may answer 500 while it makes the app anew after a cut) or a
        newer connection's resync takes over."""
        attempt = 0
        while True:
            began = self._options.clock.now()
            known_before = self._known()
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
        self._vanished(vanished)
        resynced = Resynced()
        if self._resync_hook is not None:
            ours = {b.id: list(b.channels) for b in bridges if b.id in app.bridge_ids}
            try:
                resynced = await self._resync_hook(existing, ours)
            except Exception as exc:  # e.g. the ACD's database is down: orphans are still dealt with
                log.error(fields("service.resync.hook_failed", error=f"{type(exc).__name__}: {exc}"))
        in_app = {c for c in app.channel_ids if c in existing}
        claimed = (in_app & resynced.claimed) - self._known()
        await self._start_orphans(claimed)  # known from an earlier run: no StasisStart can be on its way
        await asyncio.sleep(self._options.orphan_grace)  # let StasisStarts already on the wire arrive
        if connection != self._connection:
            return  # superseded meanwhile: the newer resync deals with what this one found
        orphans = in_app - self._known() - resynced.looked_after - claimed
        await self._start_orphans(orphans)
        orphans |= claimed
        emptied = [b.id for b in bridges if b.id in app.bridge_ids and not b.channels]
        for bridge_id in emptied:
            with contextlib.suppress(AriNotFound):
                await self._client.destroy_bridge(bridge_id)
        closed = await self._close_stale_calls(existing | self._known(), began)
        log.info(fields("service.resync", connection=connection, vanished=len(vanished),
                        orphans=len(orphans), bridges_destroyed=len(emptied),
                        rows_closed="not now" if closed is None else closed))

    async def _start_orphans(self, channel_ids: Set[str]) -> None:
        """Start a call task (orphan: the ``orphan_hook`` first) for each channel still there and still
        without one (while we asked, its StasisStart or an overlapping resync may have started it)."""
        for channel_id in channel_ids:
            try:
                snapshot = await self._client.get_channel(channel_id)
            except AriError:
                continue
            if channel_id not in self._known():
                self._start_orphan(snapshot)

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

    # -- sweeps -----------------------------------------------------------------------------------

    def start_sweeps(self) -> None:
        """Sweep stale call rows every ``sweep_interval`` s, and ``sweep_retry`` s after a sweep or a
        resync could not, until ``stop_sweeps``. (The resync after each connect sweeps first.)"""
        if self._sweeper is None and self._stale_calls is not None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="stale-call-sweep")

    def stop_sweeps(self) -> asyncio.Task[None] | None:
        """Cancel the sweeps; the task to wait for, if they ran."""
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
        return sweeper

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
        closed = await self._close_stale_calls(existing | self._known(), began)
        if closed:
            log.info(fields("service.sweep", rows_closed=closed))
        return closed is not None
