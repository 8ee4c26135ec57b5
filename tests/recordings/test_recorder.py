"""``CallRecorder`` without Asterisk: the bridge is recorded under the call's name; once Asterisk no
longer lists it live the file moves, owner-only, into the recordings folder and its row is stored; a
refused start or a missing file costs the call nothing."""

from __future__ import annotations

import stat
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from acd.live.recording import CallRecorder, SavedRecording
from acd.live.tasks import TaskSet
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError, AriNotFound


@dataclass
class FakeAri:
    live_polls: int = 2
    refuse: bool = False
    requests: list[tuple[str, str]] = field(default_factory=list)

    async def record_bridge(self, bridge_id: str, *, name: str, fmt: str = "wav") -> None:
        if self.refuse:
            raise AriError("bridge gone")
        self.requests.append((bridge_id, name))

    async def get_live_recording(self, name: str) -> object:
        if self.live_polls > 0:
            self.live_polls -= 1
            return object()
        raise AriNotFound("GET", f"/recordings/live/{name}", 404, "Recording not found")

    async def stop_recording(self, name: str) -> None:
        pass


@dataclass
class Sink:
    saved: list[SavedRecording] = field(default_factory=list)

    async def recording_saved(self, recording: SavedRecording) -> bool:
        self.saved.append(recording)
        return True


def _recorder(tmp_path: Path, ari: FakeAri, sink: Sink, tasks: TaskSet) -> CallRecorder:
    client = cast(AriClient, cast(Any, ari))
    return CallRecorder(client, spool=tmp_path / "spool", store_dir=tmp_path / "kept", sink=sink,
                        tasks=tasks, clock=lambda: 1_800_000_000.0)


async def test_a_finished_recording_is_kept_private_and_stored(tmp_path: Path) -> None:
    ari, sink, tasks = FakeAri(), Sink(), TaskSet()
    recorder = _recorder(tmp_path, ari, sink, tasks)
    live = await recorder.start("acd-c1", call_id="c1", agent_id="1002", queue="billing")
    assert live is not None
    assert ari.requests == [("acd-c1", "callrec-c1")]
    (tmp_path / "spool").mkdir()
    with wave.open(str(tmp_path / "spool" / "callrec-c1.wav"), "wb") as out:  # what Asterisk wrote
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 16000)
    recorder.finish(live)
    await tasks.drain()
    (saved,) = sink.saved
    assert (saved.call_id, saved.agent_id, saved.queue) == ("c1", "1002", "billing")
    assert saved.path == tmp_path / "kept" / "c1-1800000000.wav"
    assert saved.duration == 2.0
    assert stat.S_IMODE(saved.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.path.parent.stat().st_mode) == 0o700
    assert not (tmp_path / "spool" / "callrec-c1.wav").exists()
    assert ari.live_polls == 0  # it waited until Asterisk had closed the file


async def test_refused_or_missing_recordings_are_dropped_quietly(tmp_path: Path) -> None:
    sink, tasks = Sink(), TaskSet()
    refused = _recorder(tmp_path, FakeAri(refuse=True), sink, tasks)
    assert await refused.start("acd-c2", call_id="c2", agent_id="1001", queue="billing") is None
    recorder = _recorder(tmp_path, FakeAri(live_polls=0), sink, tasks)
    live = await recorder.start("acd-c3", call_id="c3", agent_id="1001", queue="billing")
    assert live is not None
    recorder.finish(live)  # Asterisk never wrote the file
    await tasks.drain()
    assert sink.saved == []
