"""Playing hold to a waiting caller: announcements (or the reassurance) and Asterisk's music on hold in
turns, listening for the callback key. What plays is chosen in ``acd.live.hold``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Sequence

import acd
from acd.live.hold import HoldOptions, announcement, hold_cycle
from acd.live.inflight import EpochClock, HandOver, Waiter
from acd.live.worker import EngineWorker
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError, AriNotFound
from ivr_engine.channel import CallerHungUp, ChannelError, Media
from ivr_engine.logs import fields

__all__ = ["HoldPlayer"]

log = logging.getLogger(__name__)

_AFTER_PROMPT_SECONDS = 0.05
"""How long a hold prompt waits for a key after it ends before the music starts."""


class HoldPlayer:
    def __init__(self, worker: EngineWorker, client: AriClient, clock: EpochClock,
                 options: HoldOptions, *, handover: HandOver | None = None) -> None:
        self._worker = worker
        self._handover = handover or HandOver()
        self._on_music: set[str] = set()
        """The calls whose music on hold is playing (started, not stopped)."""
        self._client = client
        self._clock = clock
        self._options = options

    async def play(self, waiter: Waiter, queue: acd.Queue) -> None:
        """Loop announcements (or the reassurance) and music on hold; returns when the callback key is
        pressed. Prompts or music that cannot be played are dropped (logged), down to silence, so they
        never cost the caller their place. The music is stopped before every prompt and whenever the
        loop ends (agent answered, overflow, callback key), except when the caller has hung up.
        A caller taken back after a restart (``waiter.resumed``) hears the music first, at once, and
        the next announcement an ``announce_interval`` later. Cancelled while the service hands its
        calls over (``HandOver``), the caller is left on music (started if a prompt was playing) until
        the next run takes them back (a caller already on music keeps it, not started again from the top)."""
        try:
            await self._play(waiter, queue)
        except asyncio.CancelledError:
            call_id = waiter.request.call_id
            if self._handover.keeps(call_id) and call_id not in self._on_music:
                with contextlib.suppress(CallerHungUp):
                    await self._start_music(waiter)
            raise
        finally:
            self._on_music.discard(waiter.request.call_id)

    async def _play(self, waiter: Waiter, queue: acd.Queue) -> None:
        loop = asyncio.get_running_loop()
        next_announce = loop.time() + (queue.announce_interval if waiter.resumed else 0.0)
        music_first = waiter.resumed
        call_id = waiter.request.call_id
        hold = self._options
        prompts_ok = music_ok = True
        while True:
            if prompts_ok and not music_first:
                announced: list[Media] = []
                if loop.time() >= next_announce:
                    place = await self._worker.query(functools.partial(_place, call_id=call_id,
                                                                       now=self._clock()))
                    if place is not None:
                        announced = announcement(*place)
                        next_announce = loop.time() + queue.announce_interval
                try:
                    if await self._listen(waiter, hold_cycle(hold, announced), _AFTER_PROMPT_SECONDS):
                        return
                except ChannelError as exc:
                    log.warning(fields("acd.hold.audio_failed", call=call_id, fallback="music",
                                       error=str(exc)))
                    prompts_ok = False  # e.g. an unbuilt prompt: the caller keeps their place, on music
            music_first = False
            playing = False
            try:
                if music_ok:
                    playing = True  # a start cancelled in flight may still reach Asterisk: stop it too
                    music_ok = playing = await self._start_music(waiter)
                    if playing:
                        self._on_music.add(call_id)
                pressed = await self._listen(waiter, (), hold.music_seconds)
            except CallerHungUp:
                playing = False  # the music went with the channel
                raise
            finally:
                if playing and not self._handover.keeps(call_id):
                    self._on_music.discard(call_id)
                    await self._stop_music(waiter)
            if pressed:
                return

    async def _listen(self, waiter: Waiter, prompt: Sequence[Media], seconds: float) -> bool:
        """Play ``prompt`` (a key stops it), then wait up to ``seconds``: True on the callback key;
        other keys are ignored."""
        key = self._options.callback_key.value
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            digits = await waiter.channel.collect(
                prompt=prompt, max_digits=1, terminator=None, first_timeout=seconds, inter_timeout=0.05
            )
            if digits.text == key:
                return True
            prompt, seconds = (), deadline - asyncio.get_running_loop().time()
            if digits.timed_out or seconds <= 0:
                return False

    async def _start_music(self, waiter: Waiter) -> bool:
        """Start music on hold; False (logged) when Asterisk refuses it: the caller waits on silence."""
        try:
            await self._client.start_moh(waiter.channel.id, self._options.music_class)
        except AriNotFound as exc:
            raise CallerHungUp(waiter.channel.id) from exc
        except AriError as exc:
            log.warning(fields("acd.hold.music_failed", call=waiter.request.call_id, fallback="silence",
                               error=str(exc)))
            return False
        return True

    async def _stop_music(self, waiter: Waiter) -> None:
        """Stop music on hold before a prompt or a hand-on; a channel already gone has none."""
        try:
            await self._client.stop_moh(waiter.channel.id)
        except AriNotFound:
            return
        except AriError as exc:
            log.warning(fields("acd.hold.music_stop_failed", call=waiter.request.call_id, error=str(exc)))


def _place(engine: acd.Acd, call_id: str, now: float) -> tuple[int, float | None] | None:
    """Position and expected wait of a queued call (on the worker thread); ``None`` once it left."""
    if engine.store.call(call_id) is None:
        return None
    return engine.position(call_id), engine.expected_wait(call_id, now)
