"""The web desktop in headless Chromium against real calls: a SIPp caller recognised as Alice Chen walks
the main menu and presses 0, agent 1003's SIPp phone answers; the agent's page rings, then shows
"Alice Chen", VIP and her IVR path; wrap-up is stored; the survey appears; Pause in the page shows in
`ivr agent list`; the wallboard counts the call.

Set ``IVR_WEB_SCREENSHOTS=docs`` to save both pages as the README's screenshots.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from ivr_engine.lab.agent_phone import AgentBehaviour
from ivr_engine.lab.pcmu import write_talk_audio
from ivr_engine.lab.sipp import CallerScript
from ivr_engine.web import LAB_PASSWORDS_FILE

from .conftest import Lab, in_ci
from .test_acd_flows import ALICE, agents, call_ids, ivr_ok, phone, rows

pytestmark = pytest.mark.lab

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def browser_env() -> dict[str, str]:
    """The browser is the user's machine, not ours: it never runs under the suite's shifted clock
    (``tests/any_day.py`` preloads faketime into the processes of the service under test)."""
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    missing = "" if shutil.which(CHROMIUM) else f"{CHROMIUM} is not installed: run sip-lab/install"
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        missing = missing or "Python playwright is not installed (pip install -e '.[dev]')"
    if missing:
        if in_ci():
            pytest.fail(missing)
        pytest.skip(missing)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=browser_env()
        )
        try:
            yield chromium
        finally:
            await chromium.close()


_PAGE_NOTES: dict[int, list[str]] = {}
"""What each signed-in page reported (console errors, failed or refused requests), by ``id(page)``:
``desk_state`` shows them when the page does not come to the expected state."""


def _note_trouble(page: Any) -> list[str]:
    notes = _PAGE_NOTES[id(page)] = []  # a fresh list: the id of a page gone may be reused
    started = time.monotonic()

    def note(text: str) -> None:
        notes.append(f"+{time.monotonic() - started:.1f}s {text}")

    def console(m: Any) -> None:
        if m.type in ("error", "warning"):
            note(f"console {m.type}: {m.text}")

    def response(r: Any) -> None:
        if r.status >= 400:
            note(f"HTTP {r.status}: {r.request.method} {r.url}")

    page.on("console", console)
    page.on("pageerror", lambda e: note(f"page error: {e}"))
    page.on("requestfailed", lambda r: note(f"request failed: {r.method} {r.url}: {r.failure}"))
    page.on("response", response)
    return notes


async def desk_state(page: Any, label: str, timeout_ms: int = 15_000) -> None:
    """The desk's state shows ``label`` within ``timeout_ms``; else the failure says what the page saw
    (its message line, console errors, failed requests) and what ``/web/me`` answers now, and how fast."""
    from playwright.async_api import expect

    try:
        await expect(page.locator("#state")).to_have_text(label, timeout=timeout_ms)
    except AssertionError as exc:
        began = time.monotonic()
        try:
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
            answer = await page.request.get(f"{origin}/web/me", timeout=10_000)
            me = f"HTTP {answer.status} in {time.monotonic() - began:.2f}s: {(await answer.text())[:600]}"
        except Exception as failed:  # the diagnosis must not hide the failure it explains
            me = f"failed after {time.monotonic() - began:.2f}s: {failed}"
        message = await page.locator("#message").text_content()
        notes = "\n".join(_PAGE_NOTES.get(id(page), [])) or "(none)"
        raise AssertionError(
            f"{exc}\npage message: {message!r}\npage notes:\n{notes}\n/web/me now: {me}") from None


async def _sign_in(browser: Any, lab: Lab, name: str) -> Any:
    from playwright.async_api import expect

    passwords = yaml.safe_load((lab.settings.state_dir / LAB_PASSWORDS_FILE).read_text())["users"]
    base = f"http://{lab.settings.http_host}:{lab.settings.http_port}"
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    _note_trouble(page)
    await page.goto(f"{base}/login")
    await page.fill("#username", name)
    await page.fill("#password", passwords[name]["password"])
    await page.click("#sign-in")
    await expect(page).not_to_have_url(f"{base}/login")
    return page


def _general_offered(board: Any) -> int:
    return next((int(q["offered"]) for q in board["queues"] if q["name"] == "general"), 0)


async def test_agent_desktop_and_wallboard_follow_a_real_call(lab: Lab, browser: Any, tmp_path: Path) -> None:
    from playwright.async_api import expect

    ivr_ok(lab, "web", "user", "lab")
    boss = await _sign_in(browser, lab, "supervisor")
    await expect(boss.locator("#agents")).to_contain_text("1003")
    board = await (await boss.request.get(boss.url.replace("/wallboard", "/web/wallboard"))).json()
    offered_before = _general_offered(board)

    before = len(lab.events())
    voice = write_talk_audio(tmp_path / "agent-voice.wav", seconds=2)
    behaviour = AgentBehaviour(ring_ms=2000, hangup_after_s=6, talk_audio=voice)
    async with phone(lab, "1003", behaviour):
        with agents(lab, "1003"):
            page = await _sign_in(browser, lab, "agent1003")
            await desk_state(page, "ready")
            await expect(page.locator("body")).to_have_attribute("data-live", "yes")
            # The survey keys come 20 s after "0", well after the agent hangs up (keys pressed while
            # bridged are not the survey's); the survey's type-ahead and retry take them late as well.
            caller = asyncio.create_task(lab.call(CallerScript(
                number="100", caller_id=ALICE, digits="0543", initial_wait_ms=9000,
                pauses_ms=(20000, 2500, 2500, 500), timeout_s=120,
            )))  # fmt: skip
            ringing = page.locator("#ringing")
            await expect(ringing).to_contain_text(f"Incoming call from {ALICE}", timeout=40_000)
            await expect(page.locator("#customer-name")).to_have_text("Alice Chen", timeout=15_000)
            await expect(page.locator("#vip")).to_be_visible()
            path = page.locator("#ivr-path")
            await expect(path).to_contain_text("main_menu")
            menu_row = path.locator("tr", has_text="main_menu").last
            await expect(menu_row.locator("td").nth(3)).to_have_text("0")
            await desk_state(page, "on call")
            for button in ("#btn-login", "#btn-ready", "#btn-pause", "#btn-logout"):  # hang up first
                await expect(page.locator(button)).to_be_disabled()
            reference = page.locator("#wrapup-call .call-ref")  # not Asterisk's id
            await expect(reference).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d #\d{5}$"))
            if (folder := os.environ.get("IVR_WEB_SCREENSHOTS")) is not None:
                await page.screenshot(path=str(Path(folder) / "agent-desktop.png"), full_page=True)
                on_call = boss.locator('[data-agent="1003"]')
                await expect(on_call).to_contain_text("on call")
                await boss.screenshot(path=str(Path(folder) / "wallboard.png"), full_page=True)

            await expect(page.locator("#wrapup-message")).to_have_text(
                "Call ended: please wrap up.", timeout=20_000
            )
            await page.select_option("#disposition", "resolved")
            await page.fill("#note", "read her balance")
            await page.click("#btn-wrapup")
            await expect(page.locator("#wrapup-message")).to_have_text("Wrap-up saved.")
            result = await caller
            assert result.ok, result.describe()
            await expect(page.locator("#survey")).to_contain_text("4.0 / 5", timeout=20_000)

            await expect(page.locator("#state")).not_to_have_text("on call")
            # Ends wrap-up early; once the ACD ended it the button is disabled (checked and clicked in
            # one step in the page, so the wrap-up running out in between cannot stall the click).
            await page.evaluate(
                "() => { const b = document.getElementById('btn-ready'); if (!b.disabled) b.click(); }"
            )
            await desk_state(page, "ready")
            await page.select_option("#pause-reason-select", "lunch")
            await page.click("#btn-pause")
            await expect(page.locator("#state")).to_have_text("paused")
            listing = ivr_ok(lab, "agent", "list")
            line = next(row for row in listing.splitlines() if row.lstrip().startswith("1003"))
            assert "paused" in line
            assert "lunch" in line

    (call_id,) = call_ids(lab, before)
    assert rows(lab, "SELECT agent_id, disposition, note FROM wrap_ups WHERE call_id = ?", call_id) == [
        ("1003", "resolved", "read her balance")
    ]
    tile = boss.locator('[data-queue="general"]')
    await expect(tile.locator('[data-field="offered"]')).to_have_text(str(offered_before + 1))
    await expect(boss.locator("#funnel")).to_contain_text("main_menu")
