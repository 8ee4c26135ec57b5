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
from pathlib import Path
from typing import Any

import pytest

from ivr_engine.lab.sipp import CallerScript, HangupBy

from .conftest import Lab, in_ci, serving_lab, until
from .silence import silences
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
    log_offset = lab.full_log_size()
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

    def ended_call() -> dict[str, Any] | None:
        calls = json.loads(lab.ivr("calls", "list", "--json").stdout)
        return next((c for c in calls if c["caller"] == "5550777" and c["ended"] is not None), None)

    # A call's end is written behind (in the next batch, 0.25 s): the caller may have its BYE first.
    call = await until(ended_call, 10, "the call's end is stored")
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
        played = [path.stem for path in lab.played_since(log_offset)]
        assert played[-2:] == ["im-sorry", "please-try-call-later"], played  # ended politely
    await until(lambda: lab.ari_json("/channels") == [], 10, "no channel is left")


LISTEN_NUMBER = "7300"
LISTEN_FLOW = "flow: listen\ndescription: Twelve short numbers read out, no input (lab)\nnodes:\n" + "".join(
    f"  n{i}:\n    type: say\n    kind: digits\n    value: \"{i % 10}{(i + 3) % 10}{(i + 7) % 10}\"\n"
    f"    next: {'n' + str(i + 1) if i < 11 else 'bye'}\n"
    for i in range(12)
) + "  bye:\n    type: hangup\n"
"""Twelve playbacks of three digits each (about 2 s apart), then the far end hangs up."""
CORE_SOUNDS = Path("/usr/share/asterisk/sounds/en")
FILES = 36
"""Each number is three digit files."""
CALLERS = 6
MOST_SILENCE_S = 3.0


async def test_events_websocket_cut_repeatedly_no_caller_hears_more_than_3_s_of_dead_air(
    make_lab: Callable[[], Lab],
) -> None:
    """Six callers (0.45 s apart, so their prompts end at different moments) listen to a chain of
    prompts while the events WebSocket is cut every 1.3 s, twice in a row so that each outage is long
    enough to swallow some PlaybackFinished events (at least six times, and until the service has
    caught a playback whose end was lost). Each caller's gaps between files, from Asterisk's full log,
    stay under 3 s, and every call reaches its end."""
    lab = make_lab()
    flows = lab.settings.state_dir / "flows"
    flows.mkdir()
    (flows / "listen.yaml").write_text(LISTEN_FLOW)
    env = {"IVR_FLOWS_DIR": str(flows), "IVR_SERVICE_NUMBERS": json.dumps({LISTEN_NUMBER: "listen"})}
    with serving_lab(lab, ("validate", str(flows)), ("db", "init"), env=env) as lab:
        offset = lab.full_log_size()
        callers = []
        for i in range(CALLERS):
            script = CallerScript(number=LISTEN_NUMBER, caller_id=f"555730{i}", timeout_s=90)
            callers.append(asyncio.create_task(lab.call(script)))
            await asyncio.sleep(0.45)
        await until(lambda: len(lab.ari_json("/channels")) == CALLERS, 30, "every caller is listening")
        await asyncio.sleep(1.0)
        cuts = 0
        while cuts < 6 or (cuts < 14 and "call.playback.end_missed" not in lab.paths.serve_log.read_text()):
            cut_ari_connections(lab)
            await asyncio.sleep(0.35)
            cut_ari_connections(lab)  # the new connection too, if it was made already
            cuts += 1
            await asyncio.sleep(1.0)
        results = await asyncio.gather(*callers)

        gaps = await silences(lab.paths.full_log, offset, CORE_SOUNDS)
        assert len(gaps) == CALLERS, sorted(gaps)
        for channel, heard in gaps.items():
            assert len(heard) == FILES - 1, f"{channel} heard {len(heard) + 1} of {FILES} files"
            worst = max(heard, key=lambda gap: gap.seconds)
            heard_s = f"{worst.seconds:.2f}"
            assert worst.seconds <= MOST_SILENCE_S, f"{channel}: {heard_s} s of silence after {worst.after}"
        for result in results:
            assert result.ok, result.describe()
            assert result.hangup_by == HangupBy.FAR_END, result.describe()
        serve_log = lab.paths.serve_log.read_text(errors="replace")
        assert "call.playback.end_missed" in serve_log, f"no playback end was lost in {cuts} cuts"
        assert metric(lab, "ivr_ari_reconnects_total") >= cuts
