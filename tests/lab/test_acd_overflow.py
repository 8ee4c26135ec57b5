"""Overflow on max wait through ``ivr serve`` and flows/main.yaml: a caller presses 0, waits in the
``general`` queue while its only agent is paused, hearing the announcement, music on hold and the
reassurance, and at the queue's max wait is sent to voicemail.

The module runs its own lab: a copy of acd.yaml with ``general``'s max wait cut to 24 s, written into
that lab's state folder and handed to ``ivr lab up`` (and so to ``ivr serve``) as IVR_AGENTS_FILE.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from acd.live.hold import QUEUE_CALLBACK_CONFIRMED, QUEUE_CALLBACK_OFFER, QUEUE_HOLD
from ivr_engine.config import PROJECT_ROOT
from ivr_engine.lab.pcmu import write_tone_pcap
from ivr_engine.lab.sipp import AudioCue, CallerScript, HangupBy

from .conftest import Lab, require_lab, serving_lab, until

pytestmark = pytest.mark.lab

MAX_WAIT_S = 24
"""Long enough for a whole hold cycle (announcement and offer, music, reassurance) and into the next
stretch of music, which the overflow has to stop."""
OVERFLOW_QUEUE = "general"  # where 0 in the main menu goes (flows/agent.yaml, to_general)
CALLER = "5550603"  # not a customer: no VIP priority, no lookups to wait on
_STEP = re.compile(
    r"<(?P<chan>[^>]+)> Playing '(?P<file>[^']+)'"
    r"|Started music on hold, class '(?P<moh>[^']+)', on channel '(?P<moh_chan>[^']+)'"
    r"|Stopped music on hold on (?P<stop_chan>\S+)"
)
MUSIC_ON, MUSIC_OFF = "music on", "music off"
_TROUBLE = re.compile(r" (WARNING|ERROR)\[")


@pytest.fixture(scope="module")
def overflow_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, dict[str, str]]]:
    """A seeded lab serving flows/main.yaml whose ``general`` queue overflows after ``MAX_WAIT_S``."""
    require_lab()
    lab = Lab.create(tmp_path_factory.mktemp("acd-overflow"))
    sounds = lab.settings.sounds_dir / lab.settings.language
    unbuilt = [p.id for p in (QUEUE_HOLD, QUEUE_CALLBACK_OFFER) if not (sounds / f"{p.id}.wav").exists()]
    if unbuilt:  # the test follows what the caller hears by file name; runtime TTS names are hashes
        pytest.fail(f"prompts {', '.join(unbuilt)} not built: run `ivr prompts build` (make test does)")
    config = yaml.safe_load((PROJECT_ROOT / "acd.yaml").read_text())
    (queue,) = (q for q in config["queues"] if q["name"] == OVERFLOW_QUEUE)
    queue["max_wait"] = MAX_WAIT_S
    agents_file = lab.settings.state_dir / "acd-overflow.yaml"
    agents_file.write_text(yaml.safe_dump(config, sort_keys=False))
    env = {"IVR_AGENTS_FILE": str(agents_file)}
    with serving_lab(lab, ("db", "init"), ("db", "seed"), env=env) as lab:
        yield lab, env


def _ivr_ok(lab: Lab, env: dict[str, str], *args: str) -> str:
    done = lab.ivr(*args, extra_env=env)
    assert done.returncode == 0, f"ivr {' '.join(args)}:\n{done.stdout}"
    return done.stdout


def _rows(lab: Lab, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(lab.settings.state_dir / "ivr.db") as db:
        return db.execute(sql, params).fetchall()




def _heard(lab: Lab) -> list[tuple[str, str]]:
    """What Asterisk played in this lab, in order, as (channel, what): file names without folder or
    extension from its "Playing '...'" lines, and ``MUSIC_ON`` (class default) / ``MUSIC_OFF`` from
    res_musiconhold's lines. Music on hold is not a playback: it logs no "Playing" line of its own."""
    text = lab.paths.full_log.read_text(errors="replace")
    steps: list[tuple[str, str]] = []
    for m in _STEP.finditer(text):
        if m["file"]:
            steps.append((m["chan"], Path(m["file"]).stem))
        elif m["moh"]:
            steps.append((m["moh_chan"], MUSIC_ON if m["moh"] == "default" else f"moh class {m['moh']}"))
        else:
            steps.append((m["stop_chan"], MUSIC_OFF))
    return steps


def _path(lab: Lab, env: dict[str, str], call_id: str) -> list[tuple[str, str, str]]:
    """(flow, node, outcome) of each node the call went through, once it has ended (else [])."""
    shown = json.loads(_ivr_ok(lab, env, "calls", "show", call_id, "--json"))
    if not shown["ended"]:
        return []
    return [(step["flow"], step["node"], step["outcome"]) for step in shown["path"]]


async def test_max_wait_overflows_the_waiting_caller_to_voicemail(
    overflow_lab: tuple[Lab, dict[str, str]], tmp_path: Path
) -> None:
    """1003 is logged in but paused, so the caller waits (someone could serve the queue) to position,
    callback offer, music on hold, reassurance and music again. At 24 s the call overflows: the music
    stops, the transfer node's outcome is ``overflow``, the caller hears the voicemail flow, leaves a
    message (a tone) and ends it with #; the flow hangs up."""
    lab, env = overflow_lab
    # 0 barges into the main menu at 9 s; the queue starts ~3 s later and overflows ~24 s after that;
    # agents_busy_voicemail and voicemail_intro then take ~15 s, so recording starts ~51 s in. The
    # caller "speaks" (a tone) from 47 s to 61 s, which covers that start with room either side (the
    # record node ends on a few seconds of silence), then presses # to end the message.
    voice = AudioCue(before_key=1, pcap=write_tone_pcap(tmp_path / "message.pcap", 14), seconds=14.5)
    before = len(lab.events())
    _ivr_ok(lab, env, "agent", "login", "1003")
    _ivr_ok(lab, env, "agent", "pause", "1003", "--reason", "meeting")
    try:
        result = await lab.call(CallerScript(
            number="100", caller_id=CALLER, digits="0#", initial_wait_ms=9000, pauses_ms=(38000, 500),
            audio=(voice,), timeout_s=110,
        ))  # fmt: skip
    finally:
        _ivr_ok(lab, env, "agent", "logout", "1003")
    assert result.ok, result.describe()
    assert result.digits_sent == "0#"
    assert result.hangup_by is HangupBy.FAR_END, result.describe()

    (call_id,) = [
        e["channel"] for e in lab.events()[before:] if e["type"] == "StasisStart" and e["args"] == ["100"]
    ]
    path = await until(lambda: _path(lab, env, call_id), 15, "the call's node log")
    transfer = path.index(("agent", "to_general", "overflow"))
    assert path[transfer + 1 : transfer + 6] == [
        ("agent", "agents_busy", "next"),
        ("agent", "voicemail", "returned"),
        ("voicemail", "intro", "next"),
        ("voicemail", "record_message", "recorded"),
        ("voicemail", "saved", "next"),
    ], path
    assert path[-1] == ("agent", "goodbye", "completed")

    ended = (
        "SELECT queue, outcome, agent_id, actual_wait_s FROM queue_calls"
        " WHERE call_id = ? AND ended IS NOT NULL"
    )
    ((queue, outcome, agent_id, waited),) = await until(lambda: _rows(lab, ended, call_id), 10, "queue row")
    assert (queue, outcome, agent_id) == (OVERFLOW_QUEUE, "overflow", None)
    assert MAX_WAIT_S <= waited < MAX_WAIT_S + 4  # the queue's max wait, not the default 120 s
    steps = _heard(lab)
    heard = [what for _, what in steps]
    (caller_channel,) = {chan for chan, what in steps if what == "queue-thereare"}
    assert {chan for chan, what in steps if what in (MUSIC_ON, MUSIC_OFF)} == {caller_channel}, steps
    overflow = heard.index("agents_busy_voicemail")
    waiting = heard[heard.index("queue-thereare") : overflow]
    cycle = [QUEUE_CALLBACK_OFFER.id, MUSIC_ON, MUSIC_OFF, QUEUE_HOLD.id, MUSIC_ON, MUSIC_OFF]
    assert [what for what in waiting if what in cycle] == cycle, steps  # offer, music, reassurance, music
    assert waiting[-1] == MUSIC_OFF, steps  # the overflow stopped the music before the voicemail prompt
    assert MUSIC_ON not in heard[overflow:], steps
    assert QUEUE_CALLBACK_CONFIRMED.id not in heard
    log = lab.paths.full_log.read_text(errors="replace").splitlines()
    moh_trouble = [line for line in log if "res_musiconhold.c" in line and _TROUBLE.search(line)]
    assert moh_trouble == []  # e.g. "Files not found in /usr/share/asterisk/moh": sip-lab/install not run
    assert _rows(lab, "SELECT caller FROM voicemails WHERE call_id = ?", call_id) == [(CALLER,)]
    assert await lab.leftovers() == ([], [])
