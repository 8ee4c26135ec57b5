"""The voicemail inbox on the web pages: listed for signed-in users, audio served only from the
recordings folder (and marked heard), closed by the user; in the agent desktop's card."""

from __future__ import annotations

import wave
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import expect
from sqlalchemy import select

from ivr_engine.storage.models import Voicemail
from ivr_engine.storage.pins import Pins
from ivr_engine.storage.seed import seed

from .conftest import DESK_NOW, Desk
from .test_web_browser import _live, _signed_in


def _wav(path: Path, seconds: float = 1.0) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x10\x00" * int(8000 * seconds))
    return path


def _leave(desk: Desk, call_id: str, file_path: Path, minutes: int = 0) -> int:
    def add(session: Any) -> int:
        row = Voicemail(call_id=call_id, caller="15550001001", mailbox="general", file_path=str(file_path),
                        duration=1.0, created=DESK_NOW - timedelta(minutes=minutes))
        session.add(row)
        session.flush()
        return int(row.id)

    return int(desk.database.call(add))


async def test_signed_in_users_list_play_and_close_voicemails(desk: Desk, tmp_path: Path, pins: Pins) -> None:
    desk.database.call(lambda session: seed(session, pins))
    kept = _leave(desk, "c1", _wav(desk.recordings / "c1.wav"), minutes=5)
    elsewhere = _leave(desk, "c2", _wav(tmp_path / "c2.wav"))
    assert (await desk.client.get("/web/voicemails")).status == 401
    await desk.sign_in("ann")
    listed = (await (await desk.client.get("/web/voicemails")).json())["voicemails"]
    assert [v["id"] for v in listed] == [elsewhere, kept]
    assert listed[1]["customer"]  # Alice is on record
    assert "file" not in listed[1]  # no server path to the page
    audio = await desk.client.get(listed[1]["audio"])
    assert audio.status == 200
    assert audio.headers["Content-Type"] == "audio/wav"
    assert (await audio.read())[:4] == b"RIFF"
    assert desk.database.call(lambda s: s.scalars(select(Voicemail.heard).where(Voicemail.id == kept)).one())
    refused = await desk.client.get(f"/web/voicemails/{elsewhere}/audio")
    assert refused.status == 404
    assert "not in the recordings folder" in (await refused.json())["error"]
    assert (await desk.client.get("/web/voicemails/999/audio")).status == 404

    await desk.sign_in("boss")  # supervisors too
    closed = await desk.post(f"/web/voicemails/{kept}/close", {})
    assert closed.status == 200
    assert (await closed.json())["closed_by"] == "boss"
    assert (await desk.post(f"/web/voicemails/{kept}/close", {})).status == 409
    listed = (await (await desk.client.get("/web/voicemails")).json())["voicemails"]
    assert [v["id"] for v in listed] == [elsewhere]


async def test_the_desktop_card_plays_and_closes_a_voicemail(browser: Any, desk: Desk, pins: Pins) -> None:
    desk.database.call(lambda session: seed(session, pins))
    vm = _leave(desk, "c1", _wav(desk.recordings / "c1.wav"))
    page = await _signed_in(browser, desk, "ann")
    await _live(page)
    row = page.locator(f'#voicemails tr[data-voicemail="{vm}"]')
    await expect(row).to_contain_text("15550001001")
    await expect(row.locator("audio")).to_have_attribute("src", f"/web/voicemails/{vm}/audio")
    await row.locator("button").click()
    await expect(page.locator("#voicemail-message")).to_have_text(f"Voicemail {vm} closed.")
    await expect(page.locator("#voicemails")).to_contain_text("No open voicemails.")
