"""The playbacks and recordings of the fake ARI (``ari.fake``): what ``/playbacks``, ``/recordings``
and a channel's ``play`` and ``record`` answer, and the events they send.

A playback finishes after the host's ``playback_seconds`` (at once when its media is in
``failing_media``, state ``failed``), or when stopped (its PlaybackFinished ``stop_seconds`` later). A
recording finishes on its terminator key, on a hang-up (kept, as Asterisk does), on a stop request or
after ``record_seconds`` (at most its maximum length).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

__all__ = ["FakeMedia", "MediaHost", "not_found"]

Json = dict[str, Any]


class MediaHost(Protocol):
    """What ``FakeMedia`` needs of the fake ARI it serves (its settings are read when used)."""

    playback_seconds: float
    stop_seconds: float
    record_seconds: float
    failing_media: set[str]
    talking_seconds: float | None
    deleted_recordings: list[str]

    async def push(self, event: Json, *, after: float = 0.0) -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]: ...


@dataclass
class _Recording:
    name: str
    channel_id: str
    terminate_on: str
    task: asyncio.Task[None] | None = None
    listens_for_silence: bool = False


def not_found(what: str) -> web.Response:
    return web.json_response({"message": f"{what} not found"}, status=404)


class FakeMedia:
    """Playbacks and recordings running now, by id and by name."""

    def __init__(self, host: MediaHost) -> None:
        self._host = host
        self.playbacks: dict[str, tuple[Json, asyncio.Task[None]]] = {}
        self._recordings: dict[str, _Recording] = {}

    async def route(self, method: str, parts: list[str]) -> Any:
        """``/playbacks/...`` and ``/recordings/...`` (``parts`` without the leading slash)."""
        head, rest = parts[0], parts[1:]
        if head == "playbacks" and method == "DELETE":
            return await self.stop_playback(rest[0])
        if head == "playbacks" and method == "GET":
            found = self.playbacks.get(rest[0])
            return not_found("Playback") if found is None else {**found[0], "state": "playing"}
        if head == "recordings" and rest[:1] == ["live"] and method == "GET":
            rec = self._recordings.get(rest[1])
            if rec is None:
                return not_found("Recording")
            return {"name": rec.name, "format": "wav", "target_uri": f"channel:{rec.channel_id}",
                    "state": "recording"}  # fmt: skip
        if head == "recordings" and rest[:1] == ["stored"] and method == "DELETE":
            self._host.deleted_recordings.append(rest[1])
            return None
        if head == "recordings" and rest[:1] == ["live"] and method == "POST":
            await self._finish_recording(rest[1], 1.0)
            return None
        return not_found("Resource")

    async def play(self, channel_id: str, playback_id: str, media: str) -> Json:
        playback = {"id": playback_id, "media_uri": media, "target_uri": f"channel:{channel_id}",
                    "state": "queued", "language": "en"}  # fmt: skip
        failed = any(uri in self._host.failing_media for uri in media.split(","))

        async def run() -> None:
            await self._host.push({"type": "PlaybackStarted", "playback": {**playback, "state": "playing"}})
            await asyncio.sleep(0 if failed else self._host.playback_seconds)
            self.playbacks.pop(playback_id, None)
            state = "failed" if failed else "done"
            await self._host.push({"type": "PlaybackFinished", "playback": {**playback, "state": state}})

        self.playbacks[playback_id] = (playback, self._host.spawn(run()))
        return playback

    async def stop_playback(self, playback_id: str) -> Any:
        found = self.playbacks.pop(playback_id, None)
        if found is None:
            return not_found("Playback")
        playback, task = found
        task.cancel()
        await self._host.push({"type": "PlaybackFinished", "playback": {**playback, "state": "done"}},
                              after=self._host.stop_seconds)  # fmt: skip
        return None

    async def record(self, channel_id: str, params: dict[str, str]) -> Json:
        name = params["name"]
        terminate = params.get("terminateOn", "none")
        rec = _Recording(name, channel_id, "" if terminate == "none" else terminate,
                         listens_for_silence=float(params.get("maxSilenceSeconds", 0)) > 0)  # fmt: skip
        self._recordings[name] = rec
        snapshot = {"name": name, "format": params.get("format", "wav"),
                    "target_uri": f"channel:{channel_id}", "state": "recording"}  # fmt: skip
        await self._host.push({"type": "RecordingStarted", "recording": snapshot})
        limit = min(float(params.get("maxDurationSeconds", 60)), self._host.record_seconds)

        async def expire() -> None:
            await asyncio.sleep(limit)
            await self._finish_recording(name, float(params.get("maxDurationSeconds", 60)))

        rec.task = self._host.spawn(expire())
        return snapshot

    async def key(self, channel_id: str, digit: str) -> None:
        """A key on ``channel_id``: it ends the channel's recordings it terminates."""
        for rec in list(self._recordings.values()):
            if rec.channel_id == channel_id and digit in rec.terminate_on:
                await self._finish_recording(rec.name, 1.5)

    async def hung_up(self, channel_id: str) -> None:
        """The caller of ``channel_id`` hung up: its recordings end, kept."""
        for rec in list(self._recordings.values()):
            if rec.channel_id == channel_id:
                await self._finish_recording(rec.name, 2.5)

    async def _finish_recording(self, name: str, duration: float) -> None:
        rec = self._recordings.pop(name, None)
        if rec is None:
            return
        if rec.task is not None and rec.task is not asyncio.current_task():
            rec.task.cancel()
        finished: Json = {"name": name, "format": "wav", "target_uri": f"channel:{rec.channel_id}",
                          "state": "done", "duration": duration}  # fmt: skip
        if rec.listens_for_silence:
            talking = self._host.talking_seconds
            finished["talking_duration"] = duration if talking is None else talking
        await self._host.push({"type": "RecordingFinished", "recording": finished})
