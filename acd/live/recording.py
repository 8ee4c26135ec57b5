"""Recording a caller-agent conversation (queues with ``record: true``).

Once caller and agent are bridged, ``CallRecorder.start`` asks Asterisk to record the bridge's mix (ARI
``POST /bridges/{id}/record``): one file holding both parties, written into Asterisk's recording spool as
``callrec-<call id>.wav``. Destroying the bridge ends it. ``finish`` (a tracked task, so the end of the
call never waits for it) waits until Asterisk no longer lists the recording as live, moves the file into
``store_dir`` (created 0700) as ``<call id>-<start, epoch seconds>.wav``, mode 0600, and hands a
``SavedRecording`` to the sink, which stores the row linking it to its call.

A recording that cannot start or be kept is logged and dropped: the call itself is never failed for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from acd.live.inflight import EpochClock, utc
from acd.live.tasks import TaskSet
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError, AriNotFound
from ivr_engine.logs import fields
from ivr_engine.privatefiles import PRIVATE_FILE, make_private_dir

__all__ = ["CallRecorder", "LiveRecording", "RecordingSink", "SavedRecording", "recording_name"]

log = logging.getLogger(__name__)

_FINISH_SECONDS = 10.0
"""How long ``finish`` waits for Asterisk to close the file after the bridge went."""
_POLL_SECONDS = 0.1


def recording_name(call_id: str) -> str:
    """The spool name of a call's recording: derived from the call, so a restarted service finds it."""
    return f"callrec-{call_id}"


@dataclass(frozen=True)
class LiveRecording:
    name: str
    call_id: str
    agent_id: str
    queue: str
    started: float
    """ACD clock, epoch seconds."""


@dataclass(frozen=True)
class SavedRecording:
    call_id: str
    agent_id: str
    queue: str
    path: Path
    started: float
    duration: float


class RecordingSink(Protocol):
    async def recording_saved(self, recording: SavedRecording) -> bool:
        """Store the row linking the file to its call; False (logged) when it could not."""
        ...


class CallRecorder:
    def __init__(self, client: AriClient, *, spool: Path, store_dir: Path, sink: RecordingSink | None,
                 tasks: TaskSet, clock: EpochClock) -> None:
        self._client = client
        self._spool = spool
        self._store_dir = store_dir
        self._sink = sink
        self._tasks = tasks
        self._clock = clock

    async def start(self, bridge_id: str, *, call_id: str, agent_id: str, queue: str) -> LiveRecording | None:
        """Record the bridge; None (logged) when Asterisk refuses."""
        name = recording_name(call_id)
        try:
            await self._client.record_bridge(bridge_id, name=name)
        except AriError as exc:
            log.warning(fields("acd.recording.failed", call=call_id, error=str(exc)))
            return None
        log.info(fields("acd.recording.started", call=call_id, agent=agent_id, queue=queue))
        return LiveRecording(name, call_id, agent_id, queue, self._clock())

    async def adopt(self, *, call_id: str, agent_id: str, queue: str) -> LiveRecording | None:
        """A bridge taken back after a restart: its recording, if Asterisk still records it (its start
        is then when this run took it back)."""
        name = recording_name(call_id)
        try:
            await self._client.get_live_recording(name)
        except AriError:
            return None
        return LiveRecording(name, call_id, agent_id, queue, self._clock())

    def finish(self, recording: LiveRecording) -> None:
        """The bridge is gone: keep the file (in a tracked task)."""
        self._tasks.spawn(self._keep(recording), f"keep-{recording.name}")

    async def _keep(self, recording: LiveRecording) -> None:
        await self._closed(recording.name)
        source = self._spool / f"{recording.name}.wav"
        target = self._store_dir / f"{recording.call_id}-{int(recording.started)}.wav"
        try:
            duration = await asyncio.to_thread(_move_private, source, target)
        except OSError as exc:
            log.warning(fields("acd.recording.not_kept", call=recording.call_id, error=str(exc)))
            return
        saved = SavedRecording(recording.call_id, recording.agent_id, recording.queue, target,
                               recording.started, duration)
        log.info(fields("acd.recording.kept", call=recording.call_id, seconds=f"{duration:.1f}",
                        at=utc(recording.started).isoformat(timespec="seconds")))
        if self._sink is not None:
            await self._sink.recording_saved(saved)

    async def _closed(self, name: str) -> None:
        """Until Asterisk no longer has ``name`` live (it has written the file), bounded."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _FINISH_SECONDS
        while loop.time() < deadline:
            try:
                await self._client.get_live_recording(name)
            except AriNotFound:
                return
            except AriError as exc:
                log.info(fields("acd.recording.poll_failed", recording=name, error=str(exc)))
            await asyncio.sleep(_POLL_SECONDS)
        with contextlib.suppress(AriError):
            await self._client.stop_recording(name)


def _move_private(source: Path, target: Path) -> float:
    """Move ``source`` to ``target`` readable by its owner only; the audio's length in seconds."""
    make_private_dir(target.parent)
    os.chmod(target.parent, 0o700)
    os.chmod(source, PRIVATE_FILE)  # before the move: never readable by others where it lands
    shutil.move(source, target)
    with contextlib.suppress(wave.Error, EOFError), wave.open(str(target), "rb") as audio:
        return audio.getnframes() / float(audio.getframerate() or 8000)
    return 0.0
