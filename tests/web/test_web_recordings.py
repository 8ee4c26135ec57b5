"""Call recordings on the web pages: the agent who took the call lists and plays its recordings, another
agent is refused; supervisors list and play any; only files inside the call-recordings folder are served."""

from __future__ import annotations

import wave
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from acd.records.rows import QueueCallRow
from ivr_engine.storage.models import CallRecording
from ivr_engine.storage.pins import Pins
from ivr_engine.storage.seed import seed
from tests.acd_control_fakes import alice_pop

from .conftest import DESK_NOW, Desk
from .test_web_browser import _live, _signed_in


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


async def test_the_desktop_plays_the_calls_recording_and_the_wallboard_lists_all(
    browser: Any, desk: Desk, pins: Pins
) -> None:
    desk.database.call(lambda session: seed(session, pins))
    anns = _recorded(desk, "call-1", "1001", _wav(desk.call_recordings / "call-1.wav"))
    rajs = _recorded(desk, "call-2", "1002", _wav(desk.call_recordings / "call-2.wav"))
    page = await _signed_in(browser, desk, "ann")
    await _live(page)
    desk.screenpops.publish(alice_pop("1001", "call-1"))
    row = page.locator(f'#call-recordings tr[data-recording="{anns}"]')
    await expect(row.locator("audio")).to_have_attribute("src", f"/web/recordings/{anns}/audio")
    await expect(page.locator(f'#call-recordings tr[data-recording="{rajs}"]')).to_have_count(0)

    board = await _signed_in(browser, desk, "boss")
    await expect(board).to_have_url(f"{desk.base}/wallboard")  # where a supervisor lands
    for recording in (anns, rajs):
        player = board.locator(f'#recordings tr[data-recording="{recording}"] audio')
        await expect(player).to_have_attribute("src", f"/web/recordings/{recording}/audio")
