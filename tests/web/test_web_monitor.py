"""``POST /web/agents/{id}/monitor``: the wallboard's listen-in, under the web session (cookie, CSRF,
supervisor role), on the same code path as ``/api/agents/{id}/monitor`` (``tests/control``), and its
Listen / Whisper / Barge buttons on the wallboard in headless Chromium (which, with
``IVR_WEB_SCREENSHOTS=docs``, saves ``docs/wallboard-listen-in.png``)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from .conftest import Desk
from .test_call_controls import on_call
from .test_web_browser import _screenshot_dir, _signed_in, wallboard_day
from .test_web_recordings import _recorded, _wav


async def test_a_signed_in_supervisor_listens_in_on_an_agent_on_a_call(desk: Desk) -> None:
    await on_call(desk, "1002", "call-1")
    await desk.sign_in("boss")
    response = await desk.post("/web/agents/1002/monitor", {"supervisor": "1001", "mode": "whisper"})
    assert response.status == 200, await response.text()
    assert await response.json() == {"id": "m1", "agent_id": "1002", "call_id": "call-1",
                                     "supervisor": "PJSIP/1001", "mode": "whisper"}
    assert desk.monitor.started == ["1002 PJSIP/1001 whisper"]


async def test_an_agent_may_not_listen_in(desk: Desk) -> None:
    await on_call(desk, "1002", "call-1")
    await desk.sign_in("ann")
    response = await desk.post("/web/agents/1002/monitor", {"supervisor": "1001", "mode": "listen"})
    assert response.status == 403
    assert (await response.json())["error"] == "only supervisors may listen in; ann is an agent"
    assert desk.monitor.started == []


async def test_an_agent_not_on_a_call_is_a_conflict(desk: Desk) -> None:
    await desk.control.login("1002")
    await desk.sign_in("boss")
    response = await desk.post("/web/agents/1002/monitor", {"supervisor": "PJSIP/1001", "mode": "barge"})
    assert response.status == 409
    assert (await response.json())["error"] == "agent 1002 is not on a call answered on this node"


@pytest.mark.parametrize(("body", "message"), [
    ({"supervisor": "1001", "mode": "shout"}, "mode must be one of listen, whisper, barge"),
    ({"supervisor": "PJSIP/1001;x", "mode": "listen"}, '"supervisor"'),
    ({"mode": "listen"}, '"supervisor"'),
])
async def test_a_bad_mode_or_phone_is_refused_before_the_acd_is_asked(
    desk: Desk, body: dict[str, str], message: str
) -> None:
    await on_call(desk, "1002", "call-1")
    await desk.sign_in("boss")
    response = await desk.post("/web/agents/1002/monitor", body)
    assert response.status == 400
    assert message in (await response.json())["error"]
    assert desk.monitor.started == []


async def test_signed_out_and_cross_site_requests_are_refused(desk: Desk) -> None:
    await on_call(desk, "1002", "call-1")
    body = {"supervisor": "1001", "mode": "listen"}
    assert (await desk.post("/web/agents/1002/monitor", body)).status == 401
    await desk.sign_in("boss")
    cross = await desk.client.post("/web/agents/1002/monitor", json=body,
                                   headers={"Origin": "http://evil.example"})
    assert cross.status == 403
    assert "cross-site" in (await cross.json())["error"]
    assert desk.monitor.started == []


async def test_the_agent_actions_still_answer_beside_the_monitor_route(desk: Desk) -> None:
    await desk.sign_in("raj")
    assert (await desk.post("/web/agents/1002/login", {})).status == 200
    unknown = await desk.post("/web/agents/1002/monitors", {})
    assert unknown.status == 404
    assert "unknown agent action" in (await unknown.json())["error"]


async def test_listen_in_from_the_wallboard_rings_the_supervisors_phone(browser: Any, desk: Desk) -> None:
    await wallboard_day(desk)
    _recorded(desk, "c1", "1001", _wav(desk.call_recordings / "c1.wav"))
    await on_call(desk, "1002", "call-1")
    await desk.control.login("1001")
    page = await _signed_in(browser, desk, "boss")
    await expect(page).to_have_url(f"{desk.base}/wallboard")
    raj, ann = page.locator('#agents tr[data-agent="1002"]'), page.locator('#agents tr[data-agent="1001"]')
    await expect(raj.locator("button[data-monitor]")).to_have_text(["Listen", "Whisper", "Barge"])
    await expect(ann.locator("button[data-monitor]")).to_have_count(0)  # ready, not on a call
    message = page.locator("#monitor-message")

    await raj.locator('[data-monitor="listen"]').click()
    await expect(message).to_have_text("Enter your phone (e.g. 1001 or PJSIP/1001) first.")
    await page.fill("#monitor-phone", "PJSIP/1001;x")
    await raj.locator('[data-monitor="whisper"]').click()
    await expect(message).to_contain_text('monitor needs "supervisor": the phone to ring')
    assert desk.monitor.started == []

    await page.fill("#monitor-phone", "1001")
    await raj.locator('[data-monitor="listen"]').click()
    rings = "PJSIP/1001 rings: listen on agent 1002's call call-1. Hang up to stop."
    await expect(message).to_have_text(rings)
    await expect(message).to_have_class("message ok")
    assert desk.monitor.started == ["1002 PJSIP/1001 listen"]
    await expect(page.locator("#recordings tr[data-recording]")).to_have_count(1)
    if (folder := _screenshot_dir()) is not None:
        await page.screenshot(path=str(folder / "wallboard-listen-in.png"), full_page=True)

    await page.reload()  # the phone is remembered in this browser
    await expect(page.locator("#monitor-phone")).to_have_value("1001")
