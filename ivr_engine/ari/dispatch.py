"""Per-call event routing: each channel's events, in arrival order, into that call's own queue.

Queues are unbounded and filled with ``put_nowait`` from the single WebSocket reader, so a call that is
slow to consume never delays the reader or any other call.
"""

from __future__ import annotations

import asyncio

from ivr_engine.ari.events import (
    AriEvent,
    BridgeDestroyed,
    ChannelVanished,
    Dial,
    PlaybackFinished,
    Recheck,
    RecordingFailed,
    RecordingFinished,
    RecordingStarted,
    UnknownEvent,
)

__all__ = ["CallRouter", "channel_of"]


def _target(uri: str) -> str | None:
    kind, _, ident = uri.partition(":")
    return ident if kind == "channel" and ident else None


def channel_of(event: AriEvent) -> str | None:
    """The channel an event belongs to, or None (bridge-only and unrelated events)."""
    if isinstance(event, PlaybackFinished):
        return _target(event.playback.target_uri)
    if isinstance(event, RecordingStarted | RecordingFinished | RecordingFailed):
        return _target(event.recording.target_uri)
    if isinstance(event, Dial):
        return event.peer.id
    if isinstance(event, ChannelVanished | Recheck):
        return event.channel_id
    if isinstance(event, BridgeDestroyed):
        return None
    if isinstance(event, UnknownEvent):
        channel = event.raw.get("channel")
        ident = channel.get("id") if isinstance(channel, dict) else None
        return ident if isinstance(ident, str) else None
    return event.channel.id


class CallRouter:
    """Channel id -> the queue its call's task consumes."""

    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[AriEvent]] = {}

    def open(self, channel_id: str) -> asyncio.Queue[AriEvent]:
        queue = self._queues.get(channel_id)
        if queue is None:
            queue = self._queues[channel_id] = asyncio.Queue()
        return queue

    def close(self, channel_id: str) -> None:
        self._queues.pop(channel_id, None)

    def __contains__(self, channel_id: object) -> bool:
        return channel_id in self._queues

    def channel_ids(self) -> frozenset[str]:
        return frozenset(self._queues)

    def deliver(self, event: AriEvent) -> bool:
        """Queue ``event`` for its call; False when no call owns its channel."""
        channel_id = channel_of(event)
        queue = self._queues.get(channel_id) if channel_id else None
        if queue is None:
            return False
        queue.put_nowait(event)
        return True
