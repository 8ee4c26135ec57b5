"""Fault: ``ivr serve`` SIGKILLed while a caller sits in the main menu, then started again.

The channel left in Stasis must be dealt with by the new service's resync (apology, hangup), not left
in silence, and its call row closed. Its own lab: the test kills the lab's service.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Callable
from typing import Any

import pytest

from ivr_engine.lab.control import Component
from ivr_engine.lab.sipp import CallerScript, HangupBy

from .conftest import Lab, until
from .test_faults_asterisk import started_lab

pytestmark = pytest.mark.lab


async def test_service_killed_mid_call_restart_apologises_hangs_up_and_closes_the_row(
    make_lab: Callable[[], Lab],
) -> None:
    lab = started_lab(make_lab)
    caller = asyncio.create_task(
        lab.call(CallerScript(number="100", caller_id="5550444", hangup_after_s=45, timeout_s=60))
    )
    await until(lambda: len(lab.ari_json("/channels")) == 1, 20, "the caller is in the main menu")
    channel = lab.ari_json("/channels")[0]["id"]
    await asyncio.sleep(2.0)
    os.kill(int(lab.paths.pid_file(Component.SERVE).read_text()), signal.SIGKILL)
    await asyncio.sleep(1.0)
    assert [c["id"] for c in lab.ari_json("/channels")] == [channel]  # left in Stasis, nobody serving it
    events_before = len(lab.events())

    restarted = lab.ivr("lab", "up", "--timeout", "60")
    assert restarted.returncode == 0, restarted.stdout
    result = await caller

    assert result.ok, result.describe()
    assert result.hangup_by == HangupBy.FAR_END, result.describe()  # the service hung up, not the caller
    after = [e for e in lab.events()[events_before:] if e["channel"] == channel]
    kinds = [e["type"] for e in after]
    assert "PlaybackFinished" in kinds, kinds  # the apology played to the end before the hangup
    assert kinds.index("PlaybackFinished") < kinds.index("StasisEnd"), kinds

    def ended_call() -> dict[str, Any] | None:
        shown = lab.ivr("calls", "show", channel, "--json")
        assert shown.returncode == 0, shown.stdout
        call: dict[str, Any] = json.loads(shown.stdout)
        return call if call["ended"] is not None else None

    # A call's end is written behind (in the next batch, 0.25 s): the caller may have its BYE first.
    call = await until(ended_call, 10, "the call's end is stored")
    assert call["disposition"] == "orphan", call
    assert call["ended"] is not None
    await until(lambda: lab.ari_json("/channels") == [], 10, "no channel is left")
