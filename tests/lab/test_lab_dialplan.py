"""A SIPp call enters the Stasis app unanswered, with the service number and the From user as caller id.

A minimal ARI client stands in for ``ivr serve`` here, so this checks the lab's dialplan contract alone.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import aiohttp
import pytest

from ivr_engine.lab.sipp import CallerScript, HangupBy

from .conftest import Lab

pytestmark = pytest.mark.lab


async def _answer_and_hang_up_on_pound(lab: Lab, seen: list[dict[str, Any]], ready: asyncio.Event) -> None:
    token = base64.b64encode(":".join(lab.ari_credentials).encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    ws_url = lab.ari_url.replace("http://", "ws://") + f"/events?app={lab.settings.app_name}"
    async with aiohttp.ClientSession(headers=headers) as http, http.ws_connect(ws_url) as ws:
        ready.set()
        async for message in ws:
            event = json.loads(message.data)
            seen.append(event)
            channel = event.get("channel", {}).get("id")
            if event["type"] == "StasisStart":
                async with http.post(f"{lab.ari_url}/channels/{channel}/answer") as response:
                    assert response.status == 204
            elif event["type"] == "ChannelDtmfReceived" and event["digit"] == "#":
                async with http.delete(f"{lab.ari_url}/channels/{channel}"):
                    pass
            elif event["type"] == "StasisEnd":
                return


async def test_call_enters_stasis_with_number_and_caller_id(asterisk_only: Lab) -> None:
    seen: list[dict[str, Any]] = []
    ready = asyncio.Event()
    app = asyncio.create_task(_answer_and_hang_up_on_pound(asterisk_only, seen, ready))
    await asyncio.wait_for(ready.wait(), 10)

    result = await asterisk_only.call(CallerScript(number="103", caller_id="5550142", digits="77#"))
    await asyncio.wait_for(app, 10)

    assert result.ok, result.describe()
    assert result.hangup_by == HangupBy.FAR_END
    start = next(e for e in seen if e["type"] == "StasisStart")
    assert start["args"] == ["103"]
    assert start["channel"]["caller"]["number"] == "5550142"
    assert start["channel"]["state"] == "Ring"  # the dialplan does not answer: the app does
    assert [e["digit"] for e in seen if e["type"] == "ChannelDtmfReceived"] == ["7", "7", "#"]
    assert asterisk_only.ari_json("/channels") == []


async def test_unknown_number_is_rejected(asterisk_only: Lab) -> None:
    result = await asterisk_only.call(CallerScript(number="999", timeout_s=15))
    assert result.calls_failed == 1
    assert result.answered == 0


async def test_agent_phone_answers_qualify_and_calls(asterisk_only: Lab) -> None:
    phone = await asterisk_only.agent_phone("1002", ring_ms=100)
    try:
        for _ in range(60):  # qualify_frequency is 5 s
            if asterisk_only.ari_json("/endpoints/PJSIP/1002")["state"] == "online":
                break
            await asyncio.sleep(0.25)
        assert asterisk_only.ari_json("/endpoints/PJSIP/1002")["state"] == "online"

        asterisk_only.asterisk_cli("channel originate PJSIP/1002 application Wait 1")
        for _ in range(40):
            if phone.answered_calls() == 1 and asterisk_only.ari_json("/channels") == []:
                break
            await asyncio.sleep(0.25)
        assert phone.answered_calls() == 1
        assert asterisk_only.ari_json("/channels") == []
    finally:
        result = await phone.stop()
    assert result.calls_failed == 0, result.describe()
    assert result.hangup_by == HangupBy.FAR_END


def test_recording_folder_exists_for_ari_record(asterisk_only: Lab) -> None:
    """Without <spool>/recording, ARI's record answers HTTP 500 ("No such file or directory")."""
    assert asterisk_only.paths.recordings.is_dir()
