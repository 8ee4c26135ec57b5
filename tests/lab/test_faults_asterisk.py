"""Fault: Asterisk SIGKILLed under load and started again; the service reconnects and resyncs, and it
is back (the app registered) within 2 s of ARI answering, so calls placed 3 s later are all answered.

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



def answers(lab: Lab, path: str) -> bool:
    """Does ARI answer ``GET path`` with a success (a 404 for an app that is not registered: no)?"""
    try:
        lab.ari_json(path)
    except (OSError, ValueError):  # refused, reset, HTTP errors (urllib's HTTPError is an OSError)
        return False
    return True


async def until_answered(check: Callable[[], bool], timeout_s: float) -> float:
    """Poll ``check`` every 50 ms (off the loop); the loop time it first held. Fails after timeout_s."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout_s
    while loop.time() < give_up:
        if await asyncio.to_thread(check):
            return loop.time()
        await asyncio.sleep(0.05)
    pytest.fail(f"ARI did not answer within {timeout_s:.0f} s")


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
    await asyncio.sleep(8.0)  # a long outage: a doubling backoff would wait 8 s between attempts by now
    restart = asyncio.create_task(asyncio.to_thread(lab.ivr, "lab", "up", "--timeout", "60"))
    ari_back = await until_answered(lambda: answers(lab, "/asterisk/info"), 60)
    registered = await until_answered(lambda: answers(lab, f"/applications/{lab.settings.app_name}"), 10)
    restarted = await restart
    assert restarted.returncode == 0, restarted.stdout
    assert registered - ari_back <= 2.0, f"the app came back {registered - ari_back:.1f} s after ARI"

    # Calls placed 3 s after ARI answers again are all answered and served.
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, ari_back + 3.0 - loop.time()))
    fresh = await asyncio.gather(*(
        lab.call(CallerScript(number="199", caller_id=f"555030{i}", digits="42#", timeout_s=60))
        for i in range(3)
    ))  # fmt: skip
    for result in fresh:
        assert result.ok, result.describe()
        assert result.hangup_by == HangupBy.FAR_END, result.describe()

    await until(lambda: not open_calls(lab), 20, "the resync closed the calls lost with Asterisk")
    after = await lab.call(CallerScript(number="199", caller_id="5550199", digits="42#", timeout_s=60))
    await asyncio.gather(*callers)  # their SIPp runs end on their own (BYE unanswered, timeout)

    assert after.ok, after.describe()
    assert after.hangup_by == HangupBy.FAR_END, after.describe()
    recent = json.loads(lab.ivr("calls", "list", "--limit", "20", "--json").stdout)
    lost = [c for c in recent if c["caller"].startswith("666000")]
    assert len(lost) == 3, lost
    assert all(c["ended"] for c in lost), lost
    assert {c["disposition"] for c in lost} <= {"vanished", "lost", "error", "caller_hangup"}, lost
    assert next(c for c in recent if c["caller"] == "5550199")["disposition"] == "completed"
    assert {c["disposition"] for c in recent if c["caller"].startswith("555030")} == {"completed"}
    assert lab.ari_json("/channels") == []
