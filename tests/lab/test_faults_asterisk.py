"""Fault: Asterisk SIGKILLed under load and started again; the service reconnects and resyncs.

Each test here runs its own lab: it kills processes the session lab must keep.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import urllib.request
from collections.abc import Callable

import pytest

from ivr_engine.lab.control import Component
from ivr_engine.lab.sipp import CallerScript, HangupBy

from .conftest import Lab, until

pytestmark = pytest.mark.lab


def started_lab(make_lab: Callable[[], Lab]) -> Lab:
    lab = make_lab()
    for step in (("db", "init"), ("db", "seed"), ("lab", "up", "--timeout", "60")):
        done = lab.ivr(*step)
        assert done.returncode == 0, done.stdout
    return lab


def metric(lab: Lab, name: str) -> float:
    url = f"http://127.0.0.1:{lab.settings.http_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    line = next(line for line in text.splitlines() if line.startswith(f"{name} "))
    return float(line.split()[1])



def open_calls(lab: Lab) -> list[dict[str, object]]:
    done = lab.ivr("calls", "list", "--limit", "50", "--json")
    assert done.returncode == 0, done.stdout
    return [c for c in json.loads(done.stdout) if c["disposition"] == "in_progress"]


async def test_asterisk_killed_under_load_service_reconnects_and_no_call_stays_open(
    make_lab: Callable[[], Lab],
) -> None:
    lab = started_lab(make_lab)
    callers = [
        asyncio.create_task(lab.call(CallerScript(number="100", caller_id=f"666000{i}", hangup_after_s=30,
                                                  timeout_s=40)))
        for i in range(3)
    ]  # fmt: skip
    await until(lambda: len(lab.ari_json("/channels")) == 3, 20, "three callers are in the IVR")
    await until(lambda: len(open_calls(lab)) == 3, 10, "their call rows are written")

    pid = int(lab.paths.pid_file(Component.ASTERISK).read_text())
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(1.0)
    restarted = lab.ivr("lab", "up", "--timeout", "60")
    assert restarted.returncode == 0, restarted.stdout

    await until(lambda: metric(lab, "ivr_ari_reconnects_total") >= 1, 30, "the service reconnected")
    await until(lambda: not open_calls(lab), 20, "the resync closed the calls lost with Asterisk")
    after = await lab.call(CallerScript(number="199", caller_id="5550199", digits="42#", timeout_s=60))
    await asyncio.gather(*callers)  # their SIPp runs end on their own (BYE unanswered, timeout)

    assert after.ok, after.describe()
    assert after.hangup_by == HangupBy.FAR_END, after.describe()
    recent = json.loads(lab.ivr("calls", "list", "--limit", "10", "--json").stdout)
    lost = [c for c in recent if c["caller"].startswith("666000")]
    assert len(lost) == 3, lost
    assert all(c["ended"] for c in lost), lost
    assert {c["disposition"] for c in lost} <= {"vanished", "lost", "error", "caller_hangup"}, lost
    assert next(c for c in recent if c["caller"] == "5550199")["disposition"] == "completed"
    assert lab.ari_json("/channels") == []
