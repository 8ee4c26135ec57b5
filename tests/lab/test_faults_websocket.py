"""Fault: the ARI events WebSocket cut at the TCP level (``ss -K``) while a caller is mid-call.

The service must reconnect and resync; the caller's call carries on (or is ended politely), never left
in silence. Its own lab: the cut resets every ARI connection of that Asterisk.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Callable

import pytest

from ivr_engine.lab.sipp import CallerScript, HangupBy

from .conftest import Lab, in_ci, until
from .test_faults_asterisk import metric, started_lab

pytestmark = pytest.mark.lab


def cut_ari_connections(lab: Lab) -> None:
    """Reset every established TCP connection to the lab's ARI port (the listener stays up)."""
    if shutil.which("ss") is None:
        reason = "ss (iproute2) is needed to cut the WebSocket"
        pytest.fail(reason) if in_ci() else pytest.skip(reason)
    port = lab.settings.ari_port
    done = subprocess.run(
        ["ss", "-K", "state", "established", "(", "sport", "=", f":{port}", ")"],
        capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


async def test_events_websocket_cut_mid_call_reconnects_and_the_call_carries_on(
    make_lab: Callable[[], Lab],
) -> None:
    lab = started_lab(make_lab)
    # The line check (199) waits up to 10 s for keys; the caller keys in after 6 s, after the cut.
    caller = asyncio.create_task(
        lab.call(CallerScript(number="199", caller_id="5550777", digits="42#", initial_wait_ms=6000,
                              timeout_s=60))
    )  # fmt: skip
    await until(lambda: len(lab.ari_json("/channels")) == 1, 20, "the caller is in the line check")
    await asyncio.sleep(1.0)
    cut_ari_connections(lab)
    await until(lambda: metric(lab, "ivr_ari_reconnects_total") >= 1, 20, "the service reconnected")
    result = await caller

    assert result.ok, result.describe()
    assert result.hangup_by == HangupBy.FAR_END, result.describe()
    calls = json.loads(lab.ivr("calls", "list", "--json").stdout)
    call = next(c for c in calls if c["caller"] == "5550777")
    assert call["ended"] is not None
    assert call["disposition"] in {"completed", "error"}, call
    channel = call["call_id"]
    events = [e for e in lab.events() if e.get("channel") == channel]
    if call["disposition"] == "completed":
        # The keys pressed after the cut reached the call (the node log has them; the event log only counts).
        assert [e["type"] for e in events].count("ChannelDtmfReceived") == 3
        shown = json.loads(lab.ivr("calls", "show", channel, "--json").stdout)
        assert {step["node"]: step["input"] for step in shown["path"]}["ask"] == "42"
    else:
        played = [e["type"] for e in events].count("PlaybackStarted")
        assert played >= 2, events  # the greeting, then the apology after the cut: ended politely
    await until(lambda: lab.ari_json("/channels") == [], 10, "no channel is left")
