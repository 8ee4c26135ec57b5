"""Main menu (100), voicemail (104) and survey (105) on real calls: node log, recording and answers."""

from __future__ import annotations

import array
import json
import wave
from pathlib import Path

import pytest

from ivr_engine.lab.sipp import CallerScript, HangupBy

from .conftest import Lab
from .flow_calls import call_ids, finished_call, generate, node_path, place, query

pytestmark = pytest.mark.lab

ALICE = "15550001001"


def _wav_facts(path: Path) -> tuple[int, float, int]:
    """File size, seconds and peak sample of a 16-bit wav recording."""
    with wave.open(str(path)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
        samples = array.array("h", wav.readframes(wav.getnframes()))
    return path.stat().st_size, seconds, max((abs(s) for s in samples), default=0)


async def test_main_greets_alice_and_menu_3_goes_to_points_and_back(lab: Lab, tmp_path: Path) -> None:
    plan = generate(
        lab, tmp_path, "main", "main_menu=3/ask_card=88001234#/after_points=9/anything_else=9", ALICE
    )
    before = call_ids(lab)

    result = await place(lab, plan)

    assert result.ok, result.describe()
    assert result.hangup_by == HangupBy.FAR_END, result.describe()
    call = await finished_call(lab, before, ALICE, "100")
    path = node_path(call)
    assert path[:3] == [
        ("main", "identify", "found"),
        ("main", "greet_customer", "next"),
        ("main", "main_menu", "points"),
    ]
    assert ("points", "find_member", "found") in path
    assert ("points", "back", "return") in path
    assert path[-2:] == [("main", "anything_else", "goodbye"), ("main", "goodbye", "completed")]
    assert path == node_path(plan, "expected")
    assert await lab.leftovers() == ([], [])


async def test_voicemail_leaves_a_non_empty_recording(lab: Lab, tmp_path: Path) -> None:
    caller = "15550004004"
    plan = generate(lab, tmp_path, "voicemail", "record_message=~3#", caller)
    before = call_ids(lab)

    result = await place(lab, plan)

    assert result.ok, result.describe()
    call = await finished_call(lab, before, caller, "104")
    assert node_path(call)[:3] == [
        ("voicemail", "intro", "next"),
        ("voicemail", "record_message", "recorded"),
        ("voicemail", "saved", "next"),
    ]
    rows = query(lab, "SELECT * FROM voicemails WHERE call_id = :id", id=call["call_id"])
    assert len(rows) == 1
    assert rows[0]["caller"] == caller
    assert float(rows[0]["duration"]) > 1
    size, seconds, peak = _wav_facts(Path(rows[0]["file_path"]))
    assert size > 44 + 8000  # more than a wav header: over 0.5 s of 16-bit audio
    assert seconds > 1
    assert peak > 1000, "the caller's speech was not recorded (silence)"
    # The inbox lists it (flow, length, the path before it) and plays it (its file; heard from then on).
    done = lab.ivr("voicemail", "list", "--json")
    assert done.returncode == 0, done.stdout
    (listed,) = [v for v in json.loads(done.stdout) if v["call_id"] == call["call_id"]]
    assert (listed["flow"], listed["state"]) == ("voicemail", "new")
    assert listed["duration"] == pytest.approx(float(rows[0]["duration"]))
    played = lab.ivr("voicemail", "play", str(listed["id"]))
    assert played.returncode == 0, played.stdout
    assert played.stdout.strip() == rows[0]["file_path"]
    shown = json.loads(lab.ivr("voicemail", "show", str(listed["id"]), "--json").stdout)
    assert shown["state"] == "heard"
    assert [p["node"] for p in shown["path"]] == ["intro", "record_message"]
    assert await lab.leftovers() == ([], [])


async def test_a_silent_caller_leaves_no_voicemail_and_is_not_kept_waiting(
    lab: Lab, tmp_path: Path
) -> None:
    """Asterisk ends the recording after 5 s of silence (``max_silence_seconds``), hears no speech in it,
    and the flow discards it: no voicemail row, no file, the node log says why."""
    caller = "15550004005"
    plan = generate(lab, tmp_path, "voicemail", "record_message=T", caller)
    before = call_ids(lab)

    result = await place(lab, plan)

    assert result.ok, result.describe()
    call = await finished_call(lab, before, caller, "104")
    assert node_path(call)[:3] == [
        ("voicemail", "intro", "next"),
        ("voicemail", "record_message", "empty"),
        ("voicemail", "nothing_recorded", "next"),
    ]
    (record,) = [n for n in call["path"] if n["node"] == "record_message"]
    assert record["seconds"] < 12, record  # 5 s of silence after the beep, not the 120 s limit
    assert query(lab, "SELECT * FROM voicemails WHERE call_id = :id", id=call["call_id"]) == []
    kept = list(lab.paths.recordings.glob(f"{call['call_id']}-record_message-*"))
    assert not kept, "the silent recording's file was kept"
    assert await lab.leftovers() == ([], [])


async def test_survey_answers_are_stored_for_the_call(lab: Lab) -> None:
    caller = "15550005005"
    before = call_ids(lab)
    script = CallerScript(
        number="105", caller_id=caller, digits="543", initial_wait_ms=8000, digit_pause_ms=5000, timeout_s=90
    )

    result = await lab.call(script)

    assert result.ok, result.describe()
    call = await finished_call(lab, before, caller, "105")
    assert ("survey", "questions", "answered") in node_path(call)
    rows = query(
        lab,
        "SELECT question, score FROM survey_responses WHERE call_id = :id ORDER BY id",
        id=call["call_id"],
    )
    assert [(r["question"], r["score"]) for r in rows] == [("agent", 5), ("resolved", 4), ("recommend", 3)]
    assert await lab.leftovers() == ([], [])
