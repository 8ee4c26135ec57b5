"""Call recordings on the web pages: the agent who took the call lists and plays its recordings, another
agent is refused; supervisors list and play any; only files inside the call-recordings folder are served."""

from __future__ import annotations

import wave
from datetime import timedelta
from pathlib import Path
from typing import Any

from acd.records.rows import QueueCallRow
from ivr_engine.storage.models import CallRecording

from .conftest import DESK_NOW, Desk


def _wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x10\x00" * 8000)
    return path


def _recorded(desk: Desk, call_id: str, agent_id: str, path: Path) -> int:
    def add(session: Any) -> int:
        answered = DESK_NOW - timedelta(minutes=2)
        session.add(QueueCallRow(call_id=call_id, queue="billing", caller="15550001001", priority=0,
                                 enqueued=answered - timedelta(minutes=1), answered=answered,
                                 agent_id=agent_id, outcome="answered"))
        row = CallRecording(call_id=call_id, agent_id=agent_id, queue="billing", file_path=str(path),
                            started=DESK_NOW - timedelta(minutes=2), duration=1.0)
        session.add(row)
        session.flush()
        return int(row.id)

    return int(desk.database.call(add))


async def test_only_the_calls_agent_and_supervisors_hear_a_recording(desk: Desk, tmp_path: Path) -> None:
    anns = _recorded(desk, "c1", "1001", _wav(desk.call_recordings / "c1.wav"))
    rajs = _recorded(desk, "c2", "1002", _wav(desk.call_recordings / "c2.wav"))
    outside = _recorded(desk, "c3", "1001", _wav(tmp_path / "c3.wav"))
    assert (await desk.client.get(f"/web/recordings/{anns}/audio")).status == 401

    await desk.sign_in("ann")  # agent 1001
    listed = await (await desk.client.get("/web/calls/c1/recordings")).json()
    assert [r["id"] for r in listed["recordings"]] == [anns]
    assert "file" not in listed["recordings"][0]  # no server path to the page
    audio = await desk.client.get(listed["recordings"][0]["audio"])
    assert audio.status == 200
    assert audio.headers["Content-Type"] == "audio/wav"
    assert (await audio.read())[:4] == b"RIFF"
    assert (await desk.client.get("/web/calls/c2/recordings")).status == 403  # raj's call
    assert (await desk.client.get(f"/web/recordings/{rajs}/audio")).status == 403
    assert (await desk.client.get("/web/recordings")).status == 403  # the supervisors' list
    refused = await desk.client.get(f"/web/recordings/{outside}/audio")
    assert refused.status == 404
    assert "not in the recordings folder" in (await refused.json())["error"]

    await desk.sign_in("boss")
    everything = await (await desk.client.get("/web/recordings")).json()
    assert {r["id"] for r in everything["recordings"]} == {anns, rajs, outside}
    assert (await desk.client.get(f"/web/recordings/{rajs}/audio")).status == 200
    of_call = await (await desk.client.get("/web/calls/c2/recordings")).json()
    assert [r["id"] for r in of_call["recordings"]] == [rajs]
    assert (await desk.client.get("/web/recordings/999/audio")).status == 404
