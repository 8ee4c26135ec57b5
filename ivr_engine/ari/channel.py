"""``AriChannel``: the ``Channel`` protocol for one live call, over the ARI client and the call's queue.

The operations read the call's events through a ``ChannelInbox`` (``ari.inbox``: type-ahead keys,
hangups, the late ends of stopped playbacks). Once the caller is gone, every operation raises
``CallerHungUp``; an ARI 404 on the channel means the same thing.

No wait for an event is unbounded (events are lost when the WebSocket drops): a playback waits for its
media's length (``MediaLengths``) plus ``WaitBounds.playback_margin``, a recording for its maximum
length plus ``recording_margin``; past that, or at once on a ``Recheck`` (sent after every reconnect),
the channel asks ARI (GET /playbacks/{id}, /recordings/live/{name}). Still playing: wait again, at most
``recheck`` seconds at a time. Gone: it finished (its end was lost) and the call carries on; if the
channel is gone too, the caller hung up.

A key that barges in stops the playback and is answered at once: the channel does not wait for the
stopped playback's PlaybackFinished (a round trip through Asterisk's Stasis loop and the events stream
that the caller would hear as extra silence before the answer). Asterisk runs a channel's commands in
order, so whatever the call sends next (the answer's play, a recording, a bridge) starts once the stop
is done. The stopped playback's PlaybackFinished, still to come, is skipped when it arrives (the inbox's
``skip_end_of``): its id comes round again two playbacks later (``playback_ids``). So is the end of a
playback found gone past its bound (its PlaybackFinished may only be late).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError, AriNotFound
from ivr_engine.ari.events import (
    AriEvent,
    ChannelDtmfReceived,
    ChannelSnapshot,
    PlaybackFinished,
    Recheck,
    RecordingFailed,
    RecordingFinished,
)
from ivr_engine.ari.inbox import TYPE_AHEAD_LIMIT, ChannelInbox
from ivr_engine.ari.lengths import LengthEstimator, MediaLengths, file_seconds
from ivr_engine.ari.media import MediaResolver
from ivr_engine.channel import CallerHungUp, ChannelError, Digits, DtmfKey, Media, Recording
from ivr_engine.logs import fields

__all__ = ["TYPE_AHEAD_LIMIT", "AriChannel", "WaitBounds", "playback_ids"]

log = logging.getLogger(__name__)

_RESOLVE_POLL = 0.05
"""How often a play waiting for media still being resolved (runtime TTS) looks for a key or a hangup."""

_ENDED_STATES = frozenset({"done", "failed", "complete", "canceled", "cancelled"})


@dataclass(frozen=True)
class WaitBounds:
    """How far a wait for an ARI event may run past what it waits for before ARI is asked."""

    playback_margin: float = 1.0
    """Seconds past a playback's media length (counted from the play request)."""
    recording_margin: float = 3.0
    """Seconds past a recording's maximum length (the beep, Asterisk's own slack)."""
    recheck: float = 1.0
    """Seconds between later looks, while ARI says it still plays (or does not answer)."""


def playback_ids(channel_id: str) -> tuple[str, str]:
    """The two ids a channel's playbacks take in turn (one playback at a time; the previous one is over
    before its id comes round again): a service taking the channel back after a restart can stop the
    playback a killed service left running, which would otherwise delay anything it plays or starts."""
    return f"pb-{channel_id}-a", f"pb-{channel_id}-b"


class AriChannel:
    """One caller's leg."""

    def __init__(
        self,
        client: AriClient,
        snapshot: ChannelSnapshot,
        events: asyncio.Queue[AriEvent],
        resolver: MediaResolver,
        *,
        dialled: str = "",
        recordings_dir: Path = Path("/var/spool/asterisk/recording"),
        language: str = "",
        lengths: LengthEstimator | None = None,
        bounds: WaitBounds | None = None,
    ) -> None:
        self._client = client
        self._snapshot = snapshot
        self._inbox = ChannelInbox(snapshot.id, events)
        self._resolver = resolver
        self._dialled = dialled
        self._recordings_dir = recordings_dir
        self._language = language
        self._lengths: LengthEstimator = lengths or MediaLengths(language=language or "en")
        self._bounds = bounds or WaitBounds()
        self._keys = self._inbox.keys
        self._hung_up_by_us = False
        self._playbacks = 0

    @property
    def id(self) -> str:
        return self._snapshot.id

    @property
    def caller_id(self) -> str:
        return self._snapshot.caller_number

    @property
    def dialled(self) -> str:
        return self._dialled

    @property
    def gone(self) -> bool:
        """True once the channel has hung up (either side) or vanished."""
        return self._inbox.gone or self._hung_up_by_us

    def _check(self) -> None:
        self._inbox.drain()
        if self.gone:
            raise CallerHungUp(self.id)

    async def _ari(self, what: str, request: Awaitable[object]) -> None:
        """Await an ARI request; 404 means the caller left, other ARI errors are ChannelErrors."""
        try:
            await request
        except AriNotFound as exc:
            self._inbox.hung_up()
            raise CallerHungUp(self.id) from exc
        except AriError as exc:
            raise ChannelError(f"{what} on {self.id} failed: {exc}") from exc

    # -- Channel protocol -------------------------------------------------------------------------

    async def answer(self) -> None:
        self._check()
        await self._ari("answer", self._client.answer(self.id))

    async def play(self, media: Sequence[Media], *, barge_in: bool = False) -> DtmfKey | None:
        self._check()
        if barge_in and self._keys:
            return self._keys[0]
        known = [self._resolver.at_once(item) for item in media]
        if all(uris is not None for uris in known):  # nothing to wait for: one playback, no tasks
            return await self.play_uris([uri for uris in known if uris is not None for uri in uris],
                                        barge_in=barge_in)
        # Every item is resolved at once, side by side, and what is ready plays without waiting for
        # what is not: a prompt before a value synthesised at run time (a Mandarin balance, which may
        # take seconds on a loaded box) is heard while the value is rendered, not after it.
        pending = [asyncio.ensure_future(self._resolver(item)) for item in media]
        try:
            start = 0
            while start < len(pending):
                while not pending[start].done():  # a hangup or a key ends the wait for the rest
                    await asyncio.wait([pending[start]], timeout=_RESOLVE_POLL)
                    self._check()
                    if barge_in and self._keys:
                        return self._keys[0]
                uris: list[str] = []
                while start < len(pending) and pending[start].done():
                    uris += pending[start].result()
                    start += 1
                key = await self.play_uris(uris, barge_in=barge_in)
                if key is not None:
                    return key
            return None
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def play_uris(self, uris: Sequence[str], *, barge_in: bool = False) -> DtmfKey | None:
        """Play raw Asterisk media URIs (e.g. ``sound:im-sorry``) and wait for the end."""
        self._check()
        if not uris:
            return None
        playback_id = playback_ids(self.id)[self._playbacks % 2]
        self._playbacks += 1
        loop = asyncio.get_running_loop()
        asked = False
        try:
            await self._ari("play", self._client.play(self.id, uris, playback_id, lang=self._language))
            asked = True
            deadline = loop.time()
            deadline += await self._lengths.seconds(uris) + self._bounds.playback_margin
            while True:
                event = await self._inbox.next(max(0.0, deadline - loop.time()))
                if event is None or isinstance(event, Recheck):
                    if not await self._still_playing(playback_id, overdue=event is None):
                        if event is None:  # its end may only be late: skipped when it comes (if it
                            self._inbox.skip_end_of(playback_id)  # was lost, the next Recheck clears it)
                        return None
                    deadline = max(deadline, loop.time() + self._bounds.recheck)
                    continue
                if isinstance(event, PlaybackFinished) and event.playback.id == playback_id:
                    if event.playback.state == "failed":
                        raise ChannelError(f"playback of {','.join(uris)} failed on {self.id}")
                    return None
                if barge_in and isinstance(event, ChannelDtmfReceived):
                    await self._stop_playback(playback_id)
                    return event.digit
        except asyncio.CancelledError:
            # Cancelled (e.g. hold audio when an agent answers): Asterisk would finish the playback
            # before any later command such as joining a bridge, so stop it now.
            with contextlib.suppress(AriError):
                await self._client.stop_playback(playback_id)
            if asked:  # (cancelled before Asterisk answered the play: whether it made one is unknown)
                self._inbox.skip_end_of(playback_id)
            raise

    async def _still_playing(self, playback_id: str, *, overdue: bool) -> bool:
        """Ask ARI whether ``playback_id`` still plays: its PlaybackFinished may have been lost. When
        the playback is gone and the channel too, the caller hung up (raises CallerHungUp)."""
        try:
            playback = await self._client.get_playback(playback_id)
        except AriNotFound:
            log.log(logging.WARNING if overdue else logging.INFO,
                    fields("call.playback.end_missed", channel=self.id, playback=playback_id,
                           why="overdue" if overdue else "recheck"))
            await self._ari("channel check", self._client.get_channel(self.id))
            return False
        except AriError as exc:
            log.warning(fields("call.playback.check_failed", channel=self.id, error=str(exc)))
            return True  # ask again shortly
        return playback.state not in _ENDED_STATES

    async def _stop_playback(self, playback_id: str) -> None:
        """Stop a playback a key barged in on, without waiting for its end (see the module's doc)."""
        try:
            await self._client.stop_playback(playback_id)
        except AriNotFound:
            pass  # it had just ended: its PlaybackFinished is on its way all the same
        except AriError as exc:
            raise ChannelError(f"stop playback on {self.id} failed: {exc}") from exc
        self._inbox.skip_end_of(playback_id)

    async def collect(
        self,
        *,
        prompt: Sequence[Media] = (),
        max_digits: int,
        terminator: DtmfKey | None = DtmfKey.POUND,
        first_timeout: float = 5.0,
        inter_timeout: float = 3.0,
    ) -> Digits:
        if max_digits < 1:
            raise ValueError("max_digits must be at least 1")
        if prompt:
            await self.play(prompt, barge_in=True)
        self._check()
        loop = asyncio.get_running_loop()
        keys: list[DtmfKey] = []
        deadline = loop.time() + first_timeout
        while True:
            if self._keys:
                key = self._keys.popleft()
                if terminator is not None and key == terminator:
                    return Digits(tuple(keys), terminated=True)
                keys.append(key)
                if len(keys) >= max_digits:
                    return Digits(tuple(keys))
                deadline = loop.time() + inter_timeout
                continue
            left = deadline - loop.time()
            if left <= 0 or await self._inbox.next(left) is None:
                return Digits(tuple(keys), timed_out=True)

    async def record(
        self, *, name: str, max_seconds: float, beep: bool = True, terminator: DtmfKey | None = DtmfKey.POUND,
        max_silence: float = 0.0,
    ) -> Recording:
        self._check()
        self._keys.clear()
        await self._ari(
            "record",
            self._client.record(
                self.id,
                name=name,
                max_seconds=max_seconds,
                beep=beep,
                terminate_on=terminator.value if terminator else "none",
                max_silence_seconds=max_silence,
            ),
        )
        terminated_by: DtmfKey | None = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_seconds + self._bounds.recording_margin
        while True:
            try:
                event = await self._inbox.next(max(0.0, deadline - loop.time()))
            except CallerHungUp:
                # Hanging up is how most callers end a voicemail: keep what Asterisk saved.
                finished = await self._recording_after_hangup(name)
                if finished is None:
                    raise
                return finished
            if event is None or isinstance(event, Recheck):
                ended = await self._recording_if_ended(name, terminated_by, overdue=event is None)
                if ended is not None:
                    return ended
                deadline = max(deadline, loop.time() + self._bounds.recheck)
            elif isinstance(event, ChannelDtmfReceived):
                self._keys.clear()  # keys during a recording are not type-ahead
                if terminator is not None and event.digit == terminator:
                    terminated_by = event.digit
            elif isinstance(event, RecordingFailed) and event.recording.name == name:
                raise ChannelError(f"recording {name!r} failed on {self.id}: {event.recording.cause}")
            elif isinstance(event, RecordingFinished) and event.recording.name == name:
                return self._finished_recording(event, terminated_by)

    async def _recording_if_ended(
        self, name: str, terminated_by: DtmfKey | None, *, overdue: bool
    ) -> Recording | None:
        """Ask ARI whether recording ``name`` still runs; the Recording if it ended (its event lost)."""
        try:
            live = await self._client.get_live_recording(name)
        except AriNotFound:
            live = None
        except AriError as exc:
            log.warning(fields("call.recording.check_failed", channel=self.id, error=str(exc)))
            return None
        if live is not None and live.state not in _ENDED_STATES:
            return None
        log.log(logging.WARNING if overdue else logging.INFO,
                fields("call.recording.end_missed", channel=self.id, recording=name))
        fmt = (live.format if live is not None else "") or "wav"
        path = self._recordings_dir / f"{name}.{fmt}"
        seconds = await asyncio.to_thread(file_seconds, path)
        return Recording(name=name, path=str(path), duration=seconds or 0.0, terminated_by=terminated_by)

    async def _recording_after_hangup(self, name: str, wait: float = 3.0) -> Recording | None:
        """After a hang-up mid-recording, wait briefly for Asterisk's RecordingFinished for ``name``."""
        try:
            async with asyncio.timeout(wait):
                while True:
                    event = await self._inbox.raw()
                    if isinstance(event, RecordingFailed) and event.recording.name == name:
                        return None
                    if isinstance(event, RecordingFinished) and event.recording.name == name:
                        return self._finished_recording(event, None)
        except TimeoutError:
            return None

    def _finished_recording(self, event: RecordingFinished, terminated_by: DtmfKey | None) -> Recording:
        name = event.recording.name
        fmt = event.recording.format or "wav"
        return Recording(
            name=name,
            path=str(self._recordings_dir / f"{name}.{fmt}"),
            duration=event.recording.duration or 0.0,
            terminated_by=terminated_by,
            talking=event.recording.talking_duration,
        )

    async def discard(self, recording: Recording) -> None:
        """Delete a stored recording (gone already is fine; a failure is logged, not raised)."""
        try:
            await self._client.delete_stored_recording(recording.name)
        except AriNotFound:
            return
        except AriError as exc:
            log.warning(fields("call.recording.discard_failed", channel=self.id, recording=recording.name,
                               error=str(exc)))

    async def hangup(self) -> None:
        """Hang up (idempotent; a channel that is already gone is fine)."""
        if self.gone:
            return
        self._hung_up_by_us = True
        try:
            await self._client.hangup(self.id)
        except AriNotFound:
            return
        except AriError as exc:
            raise ChannelError(f"hangup of {self.id} failed: {exc}") from exc
