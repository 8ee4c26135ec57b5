"""The desk's call controls in headless Chromium against a real call. Alice presses 0 and meets agent
1003, whose phone speaks a tone; our own RTP endpoint is Alice's ear. 1003 clicks Hold: Alice leaves the
bridge and hears music (audible RTP, while the agent's voice cannot reach her); Resume puts her back with
the agent. 1003 transfers her to agent 1002: 1003's phone gets a BYE (1003 in wrap-up), 1002's phone
rings and answers, a new bridge holds Alice and 1002, and 1002's screen-pop shows the desk's transfer in
the IVR path. 1002 clicks Hang up: Alice gets a BYE and 1002 goes to wrap-up, which "+60 s" extends.

The consult test: 1003 consults 1002 (Alice on music, both agents' legs in the consult bridge), cancels
(Alice back with 1003), consults again and completes (Alice bridged with 1002, 1003's leg ended).

Set ``IVR_WEB_SCREENSHOTS=docs`` to save 1002's desktop after the transfer as the README's screenshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from ivr_engine.lab.agent_phone import AgentBehaviour
from ivr_engine.lab.pcmu import write_talk_audio
from ivr_engine.lab.rtp_ear import AUDIBLE_RMS, RtpEar, SentItem, rtp_packets
from ivr_engine.lab.sipp import (
    CallerScript,
    HangupBy,
    SippResult,
    render_caller_scenario,
    restamped_dtmf,
    run_scenario_file,
)

from .conftest import Lab, until
from .test_acd_flows import ALICE, agents, control_json, phone
from .test_web_desktop import _sign_in, browser, desk_state  # noqa: F401  (browser: the fixture)

pytestmark = pytest.mark.lab

_PRESS_0_AT_S = 9.0
"""Seconds after the first audio: the main menu is listening by then (as in test_web_desktop)."""


def _acd_bridges(lab: Lab) -> list[dict[str, Any]]:
    return [b for b in lab.ari_json("/bridges") if b["id"].startswith("acd-")]


def _bridged_with(lab: Lab, caller: str | None = None) -> tuple[str, str] | None:
    """(caller channel, agent leg) of an ACD bridge holding both (``caller`` if given), else None."""
    for bridge in _acd_bridges(lab):
        legs = [c for c in bridge["channels"] if c.startswith("agent-")]
        callers = [c for c in bridge["channels"] if not c.startswith("agent-")]
        if len(legs) == 1 and len(callers) == 1 and caller in (None, callers[0]):
            return callers[0], legs[0]
    return None


def _audible_since(ear: RtpEar, since: float) -> int:
    return sum(1 for p in ear.heard.packets if p.at >= since and p.rms >= AUDIBLE_RMS)


def _state(lab: Lab, agent_id: str) -> str:
    return str(control_json(lab, f"/api/agents/{agent_id}")["state"])


def _moved(lab: Lab, caller: asyncio.Task[SippResult], alice: str, first_leg: str) -> object:
    """Alice bridged to another agent leg than ``first_leg`` (or the call over)."""
    bridged = _bridged_with(lab, alice)
    return caller.done() or (bridged is not None and bridged[1] != first_leg and bridged)


def _pop_of(lab: Lab, agent_id: str, call_id: str) -> dict[str, Any] | None:
    with contextlib.suppress(urllib.error.HTTPError):  # 404: no screen-pop yet
        pop = control_json(lab, f"/api/agents/{agent_id}/screenpop")
        return dict(pop) if pop["call_id"] == call_id else None
    return None


async def _call_with_ear(lab: Lab, ear: RtpEar) -> tuple[asyncio.Task[SippResult], asyncio.Task[bool]]:
    """Alice calls 100 with ``ear`` as her RTP; the ear presses 0 once the menu has spoken."""
    script = CallerScript(number="100", caller_id=ALICE, initial_wait_ms=1, timeout_s=80)
    folder = lab.paths.sipp / "call-controls"
    folder.mkdir(parents=True, exist_ok=True)
    scenario = folder / "caller.xml"
    scenario.write_text(render_caller_scenario(script, [], sdp_port=ear.port))
    zero = restamped_dtmf(CallerScript(number="100", digits="0").steps())[0][1]
    keys = asyncio.create_task(ear.perform([SentItem(_PRESS_0_AT_S, tuple(rtp_packets(zero)), key="0")], 15))
    return asyncio.create_task(run_scenario_file(lab.settings, scenario, 80)), keys


async def test_hold_resume_blind_transfer_and_hang_up_from_the_desk(
    lab: Lab, browser: Any, tmp_path: Path  # noqa: F811
) -> None:
    from playwright.async_api import expect

    voice = write_talk_audio(tmp_path / "agent-voice.wav", seconds=3)  # looped while answered
    talk = AgentBehaviour(ring_ms=300, talk_audio=voice)
    ear = RtpEar(lab.settings.sip_host)
    await ear.open()
    try:
        async with phone(lab, "1003", talk) as first_phone, phone(lab, "1002", talk) as second_phone:
            with agents(lab, "1003"):
                desk = await _sign_in(browser, lab, "agent1003")
                await expect(desk.locator("body")).to_have_attribute("data-live", "yes")
                caller, keys = await _call_with_ear(lab, ear)
                bridged = await until(lambda: caller.done() or _bridged_with(lab), 40, "Alice with 1003")
                assert isinstance(bridged, tuple), (await caller).describe()
                alice, first_leg = bridged
                await desk_state(desk, "on call")

                # Hold: Alice out of the bridge, hearing music on hold (not silence).
                await desk.click("#btn-hold")
                await expect(desk.locator("body")).to_have_attribute("data-held", "yes")
                assert _bridged_with(lab, alice) is None
                held_at = time.time()
                await until(lambda: _audible_since(ear, held_at) >= 50, 10, "a second of music on hold")
                # Resume: back in the bridge with the agent, the music stopped.
                await desk.click("#btn-resume")
                await expect(desk.locator("body")).to_have_attribute("data-held", "no")
                assert _bridged_with(lab, alice) == (alice, first_leg)
                back_at = time.time()
                await until(lambda: _audible_since(ear, back_at) >= 50, 10, "the agent's voice again")

                # Blind transfer to agent 1002 (ready now): 1003's leg ends, 1002's phone rings and answers.
                with agents(lab, "1002"):
                    await desk.select_option("#transfer-kind", "agent")
                    await desk.fill("#transfer-target", "1002")
                    await desk.click("#btn-transfer")
                    await expect(desk.locator("#call-message")).to_have_text("Transferred to agent 1002.")
                    moved = await until(lambda: _moved(lab, caller, alice, first_leg), 30, "Alice with 1002")
                    assert isinstance(moved, tuple), (await caller).describe()
                    await until(lambda: "far-end-bye" in first_phone.log_lines(), 10, "1003's phone hung up")
                    assert _state(lab, "1003") in ("wrap_up", "ready")
                    assert _state(lab, "1002") == "on_call"
                    pop = await until(lambda: _pop_of(lab, "1002", alice), 10, "1002's screen-pop")
                    steps = [(s["flow"], s["node"], s["input"], s["outcome"]) for s in pop["path"]]
                    assert ("desk", "transfer", "agent 1002", "by agent 1003") in steps, steps

                    # 1002 hangs up from the desk: Alice gets a BYE, 1002 goes to wrap-up, +60 s extends it.
                    second = await _sign_in(browser, lab, "agent1002")
                    await desk_state(second, "on call")
                    transfer_row = second.locator("#ivr-path tr", has_text="by agent 1003")
                    await expect(transfer_row).to_contain_text("transfer")
                    if (folder := os.environ.get("IVR_WEB_SCREENSHOTS")) is not None:
                        shot = Path(folder) / "agent-desktop-transfer.png"
                        await second.screenshot(path=str(shot), full_page=True)
                    await second.click("#btn-hangup")
                    # +60 s first: the queue's 5 s of wrap-up may be over by the time SIPp has finished.
                    await expect(second.locator("#btn-more-wrapup")).to_be_enabled()
                    await second.click("#btn-more-wrapup")
                    await expect(second.locator("#call-message")).to_contain_text("Wrap-up: 1:")
                    result = await asyncio.wait_for(caller, 20)
                    assert result.ok, result.describe()
                    assert result.hangup_by is HangupBy.FAR_END
                    assert "far-end-bye" in second_phone.log_lines()
                    assert await keys, "Alice's ear never heard the menu"
    finally:
        ear.close()
    assert await lab.leftovers() == ([], [])


def _consult_bridge(lab: Lab, alice: str) -> list[str] | None:
    """The channels of Alice's consult bridge (the two agents' legs), if there is one. (Asterisk 16 can
    list a destroyed bridge, emptied, until the last leg that was in it ends: ``[]``; the test's final
    ``leftovers`` check proves it was destroyed.)"""
    for bridge in lab.ari_json("/bridges"):
        if bridge["id"] == f"consult-{alice}":
            return sorted(bridge["channels"])
    return None


async def test_consult_transfer_cancel_then_complete_from_the_desk(
    lab: Lab, browser: Any, tmp_path: Path  # noqa: F811
) -> None:
    """1003 consults 1002 while Alice hears music; both agents' legs share the consult bridge. Cancel:
    1002's phone gets a BYE (ready again), Alice is back with 1003. A second consult, completed: Alice is
    bridged with 1002's leg, 1003's phone gets a BYE, 1002's screen-pop shows the desk's consult
    transfer, and 1002 hangs up from the desk."""
    from playwright.async_api import expect

    voice = write_talk_audio(tmp_path / "agent-voice.wav", seconds=3)
    talk = AgentBehaviour(ring_ms=300, talk_audio=voice)
    ear = RtpEar(lab.settings.sip_host)
    await ear.open()
    try:
        async with phone(lab, "1003", talk) as first_phone, phone(lab, "1002", talk) as second_phone:
            with agents(lab, "1003"):
                desk = await _sign_in(browser, lab, "agent1003")
                await expect(desk.locator("body")).to_have_attribute("data-live", "yes")
                caller, keys = await _call_with_ear(lab, ear)
                bridged = await until(lambda: caller.done() or _bridged_with(lab), 40, "Alice with 1003")
                assert isinstance(bridged, tuple), (await caller).describe()
                alice, first_leg = bridged
                await desk_state(desk, "on call")
                with agents(lab, "1002"):
                    await desk.fill("#transfer-target", "1002")
                    # Consult, then cancel: Alice on music meanwhile, back with 1003 after.
                    await desk.click("#btn-consult")
                    await expect(desk.locator("body")).to_have_attribute("data-consult", "talking")
                    held_at = time.time()
                    legs = await until(lambda: _consult_bridge(lab, alice), 10, "the consult bridge")
                    assert len(legs) == 2, legs
                    assert first_leg in legs, legs
                    assert _bridged_with(lab, alice) is None
                    assert _state(lab, "1002") == "on_call"
                    await until(lambda: _audible_since(ear, held_at) >= 50, 10, "music on hold for Alice")
                    await desk.click("#btn-consult-cancel")
                    await expect(desk.locator("body")).to_have_attribute("data-consult", "none")
                    with_first = (alice, first_leg)
                    await until(lambda: _bridged_with(lab, alice) == with_first, 10, "Alice with 1003")
                    await until(lambda: "far-end-bye" in second_phone.log_lines(), 10, "1002's phone hung up")
                    await until(lambda: _state(lab, "1002") == "ready", 10, "1002 ready again")
                    await until(lambda: not _consult_bridge(lab, alice), 5, "consult bridge emptied")

                    # Consult again, then complete: Alice with 1002, 1003's leg ended.
                    await desk.click("#btn-consult")
                    await expect(desk.locator("body")).to_have_attribute("data-consult", "talking")
                    legs = await until(lambda: _consult_bridge(lab, alice), 10, "the consult bridge")
                    (target_leg,) = [leg for leg in legs if leg != first_leg]
                    await desk.click("#btn-consult-complete")
                    await expect(desk.locator("#call-message")).to_have_text("Transferred to agent 1002.")
                    with_target = (alice, target_leg)
                    await until(lambda: _bridged_with(lab, alice) == with_target, 10, "Alice with 1002")
                    await until(lambda: "far-end-bye" in first_phone.log_lines(), 10, "1003's phone hung up")
                    await until(lambda: not _consult_bridge(lab, alice), 5, "consult bridge emptied")
                    assert _state(lab, "1003") in ("wrap_up", "ready")
                    assert _state(lab, "1002") == "on_call"
                    pop = await until(lambda: _pop_of(lab, "1002", alice), 10, "1002's screen-pop")
                    steps = [(s["flow"], s["node"], s["input"], s["outcome"]) for s in pop["path"]]
                    assert ("desk", "consult transfer", "agent 1002", "by agent 1003") in steps, steps

                    second = await _sign_in(browser, lab, "agent1002")
                    await desk_state(second, "on call")
                    await expect(second.locator("#btn-hangup")).to_be_enabled()
                    await second.click("#btn-hangup")
                    result = await asyncio.wait_for(caller, 20)
                    assert result.ok, result.describe()
                    assert result.hangup_by is HangupBy.FAR_END
                    assert await keys, "Alice's ear never heard the menu"
    finally:
        ear.close()
    assert await lab.leftovers() == ([], [])
