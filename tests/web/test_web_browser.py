"""The pages in headless Debian Chromium against the in-process service over a fake ACD.

Set ``IVR_WEB_SCREENSHOTS=DIR`` to save the agent desktop and wallboard as PNGs while they run.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import expect
from sqlalchemy import select

from acd import AgentState
from acd.live.api import RuntimeEventKind
from acd.records import AcdRecorder
from acd.records.rows import WrapUpRow
from ivr_engine.clock import CentreTime
from ivr_engine.screenpop import CustomerCard
from ivr_engine.storage.models import NodeEventRow, SurveyResponse
from ivr_engine.storage.pins import Pins
from ivr_engine.storage.seed import seed
from ivr_engine.web.call_ref import pop_json
from ivr_engine.workorders.rows import WorkOrderRow
from tests.acd_control_fakes import alice_pop

from .conftest import DESK_ZONE, PASSWORDS, Desk

STATE_BUTTONS = ("btn-login", "btn-ready", "btn-pause", "btn-logout")


async def _a_second_late(route: Any) -> None:
    await asyncio.sleep(1.0)
    await route.continue_()


async def _signed_in(browser: Any, desk: Desk, name: str, width: int = 1280, *, late: str = "") -> Any:
    """``name`` signed in; requests matching ``late`` (a URL pattern) are answered a second late."""
    page = await browser.new_page(viewport={"width": width, "height": 900})
    if late:
        await page.route(late, _a_second_late)
    await page.goto(f"{desk.base}/agent")
    await expect(page).to_have_url(f"{desk.base}/login")
    await page.fill("#username", name)
    await page.fill("#password", PASSWORDS[name])
    await page.click("#sign-in")
    return page


def _screenshot_dir() -> Path | None:
    value = os.environ.get("IVR_WEB_SCREENSHOTS")
    return Path(value) if value else None


async def test_sign_in_is_required_and_a_wrong_password_is_shown(browser: Any, desk: Desk) -> None:
    page = await browser.new_page()
    await page.goto(f"{desk.base}/wallboard")
    await expect(page).to_have_url(f"{desk.base}/login")
    await page.fill("#username", "boss")
    await page.fill("#password", "not-the-password")
    await page.click("#sign-in")
    await expect(page.locator("#message")).to_have_text("wrong user name or password")
    await page.fill("#password", PASSWORDS["boss"])
    await page.click("#sign-in")
    await expect(page).to_have_url(f"{desk.base}/wallboard")


async def test_pause_in_the_page_pauses_the_agent_and_refusals_show_why(browser: Any, desk: Desk) -> None:
    page = await _signed_in(browser, desk, "ann")
    await expect(page).to_have_url(f"{desk.base}/agent")
    await expect(page.locator("#state")).to_have_text("logged out")
    await expect(page.locator("#btn-ready")).to_be_disabled()
    # A stale page (the state changed before it heard) still shows the server's refusal.
    # Enabled and clicked in one step: the page's own refreshes may disable it again in between.
    await page.evaluate("(b => { b.disabled = false; b.click(); })(document.getElementById('btn-ready'))")
    await expect(page.locator("#message")).to_contain_text("logged_out")
    await page.click("#btn-login")
    await expect(page.locator("#state")).to_have_text("ready")
    await page.select_option("#pause-reason-select", "lunch")
    await page.click("#btn-pause")
    await expect(page.locator("#state")).to_have_text("paused")
    await expect(page.locator("#pause-reason")).to_have_text("Reason: lunch")
    assert desk.control.state("1001") is AgentState.PAUSED
    assert desk.control.acd.store.agent("1001").pause_reason == "lunch"


async def test_a_state_change_elsewhere_shows_live(browser: Any, desk: Desk) -> None:
    page = await _signed_in(browser, desk, "ann")
    await expect(page.locator("#state")).to_have_text("logged out")
    await _live(page)
    await desk.control.login("1001")  # e.g. `ivr agent login 1001` from the CLI
    await expect(page.locator("#state")).to_have_text("ready")


async def test_the_desk_starts_whichever_of_its_scripts_arrives_last(browser: Any, desk: Desk) -> None:
    """The page's scripts are deferred: the desk's start waits for all of them. Here ``calls.js`` (the
    call controls the start uses) arrives a second late, long after ``/web/me`` could have answered;
    started at once, the desk stayed on "…" with no live feed (a failure seen in CI on a loaded machine)."""
    page = await _signed_in(browser, desk, "ann", late="**/static/web/calls.js")
    await expect(page.locator("#state")).to_have_text("logged out")
    await _live(page)
    assert await page.locator("#message").text_content() in ("", None)


async def test_the_state_buttons_work_as_soon_as_the_state_shows(browser: Any, desk: Desk) -> None:
    """The work-order options come after the agent's state is shown: here a second late. A click on
    "Log in" in between did nothing before (the buttons' handlers came after the options)."""
    page = await _signed_in(browser, desk, "ann", late="**/web/workorders/options")
    await expect(page.locator("#state")).to_have_text("logged out")  # the options are on their way
    await page.click("#btn-login")
    await expect(page.locator("#state")).to_have_text("ready", timeout=900)  # before the options come
    assert desk.control.state("1001") is AgentState.READY


async def test_answered_call_rings_then_pops_the_caller_within_a_second_and_wrap_up_is_stored(
    browser: Any, desk: Desk, pins: Pins
) -> None:
    desk.database.call(lambda session: seed(session, pins))
    runner = asyncio.create_task(desk.screenpops.run(desk.control.subscribe()))
    try:
        page = await _signed_in(browser, desk, "ann")
        await expect(page.locator("#state")).to_have_text("logged out")
        await _live(page)
        desk.control.emit(RuntimeEventKind.OFFERED, "1001", "call-42")
        await expect(page.locator("#ringing")).to_contain_text("Incoming call from 15550001001")
        desk.control.emit(RuntimeEventKind.ANSWERED, "1001", "call-42")
        await expect(page.locator("#customer-name")).to_have_text("Alice Chen", timeout=1000)
        await expect(page.locator("#vip")).to_be_visible()
        await expect(page.locator("#ringing")).to_be_hidden()
        await page.fill("#note", "asked about her balance")
        await page.select_option("#disposition", "resolved")
        await page.click("#btn-wrapup")
        await expect(page.locator("#wrapup-message")).to_have_text("Wrap-up saved.")
        rows = desk.database.call(lambda s: [(r.call_id, r.agent_id, r.disposition, r.note)
                                             for r in s.scalars(select(WrapUpRow))])
        assert rows == [("call-42", "1001", "resolved", "asked about her balance")]

        desk.control.emit(RuntimeEventKind.ENDED, "1001", "call-42")
        await expect(page.locator("#wrapup-message")).to_have_text("Call ended: please wrap up.")
        desk.database.call(lambda s: s.add(
            SurveyResponse(call_id="call-42", agent_id="1001", survey="csat", question="agent", score=4)))
        await expect(page.locator("#survey")).to_contain_text("4.0 / 5")
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_screen_pop_shows_ivr_path_with_masked_pin_and_unknown_callers(
    browser: Any, desk: Desk
) -> None:
    page = await _signed_in(browser, desk, "ann")
    await expect(page.locator("#state")).to_have_text("logged out")
    await _live(page)
    desk.screenpops.publish(alice_pop("1001", "call-1"))
    path = page.locator("#ivr-path")
    await expect(path).to_contain_text("ask_pin")
    await expect(path).to_contain_text("****")
    await expect(page.locator("#accounts")).to_contain_text("1520.50")
    await expect(page.locator("#orders")).to_contain_text("ORD-77")
    await expect(page.locator("#customer-summary")).to_contain_text("points: 4520")
    if (folder := _screenshot_dir()) is not None:
        await page.screenshot(path=str(folder / "agent-desktop.png"), full_page=True)
    card = CustomerCard(customer_id=9, name="", phone="15559990000", known=False)
    desk.screenpops.publish(replace(alice_pop("1001", "call-2"), customer=card, caller="15559990000"))
    await expect(page.locator("#customer-name")).to_have_text("New caller 15559990000")
    await expect(page.locator("#vip")).to_be_hidden()


async def wallboard_day(desk: Desk) -> AcdRecorder:
    """Today's figures on the board: one answered call in general, two calls through the main flow."""
    recorder = AcdRecorder(desk.database)
    now = desk.now
    await recorder.queue_call_enqueued(call_id="q1", queue="general", caller="1", priority=0,
                                       enqueued=now - timedelta(seconds=30), predicted_wait_s=None)
    await recorder.queue_call_answered(call_id="q1", agent_id="1001", answered=now - timedelta(seconds=25))
    desk.database.call(lambda s: s.add_all([
        NodeEventRow(call_id=c, seq=i, flow="main", node=node, node_type="menu", input=None, outcome="next",
                     entered=now - timedelta(seconds=20 - i), left=now - timedelta(seconds=19 - i))
        for c, nodes in {"a": ["welcome", "main_menu", "agent"], "b": ["welcome", "main_menu"]}.items()
        for i, node in enumerate(nodes, start=1)
    ]))
    return recorder


async def test_wallboard_shows_figures_and_updates_live(browser: Any, desk: Desk) -> None:
    recorder = await wallboard_day(desk)
    now = desk.now
    page = await _signed_in(browser, desk, "boss")
    await expect(page).to_have_url(f"{desk.base}/wallboard")
    tile = page.locator('[data-queue="general"]')
    await expect(tile.locator('[data-field="offered"]')).to_have_text("1")
    await expect(tile.locator('[data-field="sl"]')).to_have_text("100.0 %")
    await expect(page.locator('#funnel [data-node="main_menu"]')).to_contain_text("2 visits · 1 ended here")
    await expect(page.locator('[data-state="logged_out"]')).to_have_text("logged out: 2")

    await desk.control.login("1002")
    await expect(page.locator('[data-state="ready"]')).to_have_text("ready: 1")
    await recorder.queue_call_enqueued(call_id="q2", queue="general", caller="2", priority=0,
                                       enqueued=now, predicted_wait_s=None)
    await desk.control.pause("1002", "break")  # any ACD event refreshes the board
    await expect(tile.locator('[data-field="offered"]')).to_have_text("2")
    # docs/wallboard.png comes from the lab call (tests/lab/test_web_desktop.py); the wallboard with
    # listen-in and a recording: test_web_monitor.py (docs/wallboard-listen-in.png)


async def test_an_agent_is_sent_away_from_the_wallboard(browser: Any, desk: Desk) -> None:
    page = await _signed_in(browser, desk, "ann")
    await expect(page).to_have_url(f"{desk.base}/agent")
    await page.goto(f"{desk.base}/wallboard")
    await expect(page).to_have_url(f"{desk.base}/agent")
    response = await page.request.get(f"{desk.base}/web/wallboard")
    assert response.status == 403


async def _live(page: Any) -> None:
    """Wait until the agent page's event stream is subscribed (its first event arrived)."""
    await expect(page.locator("body")).to_have_attribute("data-live", "yes")


async def test_an_agent_logs_a_work_order_from_the_screen_pop(browser: Any, desk: Desk, pins: Pins) -> None:
    desk.database.call(lambda session: seed(session, pins))
    page = await _signed_in(browser, desk, "ann")
    await _live(page)
    desk.screenpops.publish(alice_pop("1001", "call-1"))
    await expect(page.locator("#workorder-card")).to_be_visible()
    await expect(page.locator("#work-orders")).to_contain_text("none")
    await page.select_option("#wo-type", "complaint")
    await page.select_option("#wo-urgency", "high")
    await page.select_option("#wo-department", "logistics")
    await page.fill("#wo-description", "parcel arrived broken")
    await page.click("#btn-workorder")
    await expect(page.locator("#workorder-message")).to_have_text("Logged WO-20261204-0001.")
    await expect(page.locator("#work-orders")).to_contain_text("WO-20261204-0001")
    await expect(page.locator("#work-orders")).to_contain_text("dispatched")
    rows = desk.database.call(lambda s: [(r.serial, r.call_id, r.department, r.created_by)
                                         for r in s.scalars(select(WorkOrderRow))])
    assert rows == [("WO-20261204-0001", "call-1", "logistics", "ann")]
    if (folder := _screenshot_dir()) is not None:
        await page.screenshot(path=str(folder / "agent-desktop-work-order.png"), full_page=True)
    await page.click("#btn-workorder")  # nothing described: the server refuses, the page says why
    await expect(page.locator("#workorder-message")).to_contain_text("'description' is required")


async def _only_enabled(page: Any, *enabled: str) -> None:
    for button in STATE_BUTTONS:
        if button in enabled:
            await expect(page.locator(f"#{button}")).to_be_enabled()
        else:
            await expect(page.locator(f"#{button}")).to_be_disabled()


async def test_state_buttons_follow_the_agent_state_and_wrap_up_counts_down(browser: Any, desk: Desk) -> None:
    page = await _signed_in(browser, desk, "ann")
    await expect(page.locator("#state")).to_have_text("logged out")
    await _live(page)
    await _only_enabled(page, "btn-login")
    await page.click("#btn-login")
    await expect(page.locator("#state")).to_have_text("ready")
    await _only_enabled(page, "btn-pause", "btn-logout")
    await expect(page.locator("#btn-ready")).not_to_have_class(re.compile("primary"))
    await expect(page.locator("#pause-reason-select")).to_be_enabled()

    engine, now, call = desk.control.acd, desk.control.now, "1796287882.0"
    engine.enqueue(call, "15550001001", "general", now)  # offered to Ann, the one ready agent
    desk.control.emit(RuntimeEventKind.OFFERED, "1001", call)
    await expect(page.locator("#state")).to_have_text("ringing")
    await _only_enabled(page)
    await expect(page.locator("#pause-reason-select")).to_be_disabled()
    engine.answer("1001", now)
    desk.control.emit(RuntimeEventKind.ANSWERED, "1001", call)
    await expect(page.locator("#state")).to_have_text("on call")
    await _only_enabled(page)
    await expect(page.locator("#wrapup-left")).to_be_hidden()

    engine.end_call("1001", now)  # a queue with 90 s of wrap-up
    engine.store.save_agent(replace(engine.agent("1001"), wrap_up_until=now + 90))
    desk.control.emit(RuntimeEventKind.ENDED, "1001", call)
    await expect(page.locator("#state")).to_have_text("wrap up")
    countdown = re.compile(r"^Wrap-up: ready again in 1:[0-3]\d$")
    await expect(page.locator("#wrapup-left")).to_have_text(countdown)
    await _only_enabled(page, "btn-ready", "btn-pause", "btn-logout")
    await expect(page.locator("#btn-ready")).to_have_class(re.compile("primary"))
    await page.click("#btn-ready")  # ends wrap-up early
    await expect(page.locator("#state")).to_have_text("ready")
    await expect(page.locator("#wrapup-left")).to_be_hidden()
    assert desk.control.state("1001") is AgentState.READY


async def test_calls_are_shown_by_their_readable_reference_with_the_raw_id_kept(
    browser: Any, desk: Desk
) -> None:
    page = await _signed_in(browser, desk, "ann")
    await _live(page)
    pop = alice_pop("1001", "1796287882.0")
    desk.screenpops.publish(pop)
    refs = pop_json(pop, CentreTime.named(DESK_ZONE))
    shown = page.locator("#wrapup-call .call-ref")
    await expect(shown).to_have_text(refs["call_ref"])
    await expect(shown).to_have_attribute("title", "call id 1796287882.0")
    await expect(page.locator("#workorder-call .call-ref")).to_have_text(refs["call_ref"])
    await expect(page.locator("#last-calls")).to_contain_text(refs["last_calls"][0]["call_ref"])
    assert "1796287882" not in await page.locator("body").inner_text()


async def test_the_desktop_fits_420_px_without_scrolling_sideways(browser: Any, desk: Desk) -> None:
    page = await _signed_in(browser, desk, "ann", width=420)
    await _live(page)
    desk.screenpops.publish(alice_pop("1001", "1796287882.0"))  # the widest content: the screen-pop tables
    await expect(page.locator("#ivr-path")).to_contain_text("ask_pin")
    await expect(page.locator("#wrapup-card")).to_be_visible()
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 420
    if (folder := _screenshot_dir()) is not None:
        await page.screenshot(path=str(folder / "agent-desktop-420.png"), full_page=True)
