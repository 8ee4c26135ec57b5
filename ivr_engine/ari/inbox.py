"""``ChannelInbox``: one call's ARI events as the channel's operations read them.

The call's task is the only consumer of its event queue, so everything an operation waits for
(PlaybackFinished, DTMF, RecordingFinished) arrives in order. The inbox notes what every event means
for the call whichever operation reads it: keys pressed while no ``collect`` runs are kept (type-ahead),
at most ``TYPE_AHEAD_LIMIT`` of them (keys beyond it are dropped); ChannelHangupRequest, StasisEnd,
ChannelDestroyed or the resync's ChannelVanished mark the caller gone; the late PlaybackFinished of a
playback the channel stopped or found gone (``skip_end_of``) is skipped; a ``Recheck`` (sent after every
reconnect) forgets those ids, since everything sent before the drop was queued ahead of it.
"""

from __future__ import annotations

import asyncio
from collections import deque

from ivr_engine.ari.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    ChannelVanished,
    PlaybackFinished,
    Recheck,
    StasisEnd,
)
from ivr_engine.channel import CallerHungUp, DtmfKey

__all__ = ["TYPE_AHEAD_LIMIT", "ChannelInbox"]

TYPE_AHEAD_LIMIT = 64
"""Keys a caller may type ahead of a question: more than any entry our flows take (16-digit cards)."""

_HANGUP_EVENTS = (ChannelHangupRequest, StasisEnd, ChannelDestroyed, ChannelVanished)


class ChannelInbox:
    """The events of channel ``channel_id`` from ``events``, with the keys, the hangup and the stopped
    playbacks they tell of."""

    def __init__(self, channel_id: str, events: asyncio.Queue[AriEvent]) -> None:
        self._channel_id = channel_id
        self._events = events
        self.keys: deque[DtmfKey] = deque()
        """Keys not read yet (type-ahead)."""
        self.gone = False
        """The caller hung up or the channel vanished (seen in an event, or told by ``hung_up``)."""
        self._stale: set[str] = set()

    def hung_up(self) -> None:
        """The caller is gone (ARI answered 404 for the channel)."""
        self.gone = True

    def skip_end_of(self, playback_id: str) -> None:
        """``playback_id`` was stopped or found gone: its PlaybackFinished, if still to come, is skipped
        (its id comes round again two playbacks later, and its late end would pass for the new one's)."""
        self._stale.add(playback_id)

    def take(self, event: AriEvent) -> AriEvent | None:
        """Note hangups and keys; returns the event for the operation to inspect, or ``None`` for a
        stopped playback's late end (nothing to act on)."""
        if isinstance(event, PlaybackFinished) and event.playback.id in self._stale:
            self._stale.discard(event.playback.id)
            return None
        if isinstance(event, Recheck):
            self._stale.clear()
        if isinstance(event, _HANGUP_EVENTS):
            self.gone = True
        elif isinstance(event, ChannelDtmfReceived) and len(self.keys) < TYPE_AHEAD_LIMIT:
            self.keys.append(event.digit)
        return event

    def drain(self) -> None:
        """Take every event already queued."""
        while not self._events.empty():
            self.take(self._events.get_nowait())

    async def next(self, wait: float | None = None) -> AriEvent | None:
        """The next event to act on (None after ``wait`` seconds); raises CallerHungUp on a hangup."""
        deadline = None if wait is None else asyncio.get_running_loop().time() + wait
        while True:
            if not self._events.empty():
                event = self._events.get_nowait()
            else:
                try:  # asyncio.timeout, not wait_for: on 3.11 wait_for wraps every wait in a task of its own
                    async with asyncio.timeout_at(deadline):
                        event = await self._events.get()
                except TimeoutError:
                    return None
            taken = self.take(event)
            if self.gone:
                raise CallerHungUp(self._channel_id)
            if taken is not None:
                return taken

    async def raw(self) -> AriEvent:
        """The next event as it is, nothing noted (after a hangup, for what Asterisk still sends)."""
        return await self._events.get()
