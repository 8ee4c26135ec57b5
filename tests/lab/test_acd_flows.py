"""The ACD on real calls through ``ivr serve`` and the shipped flows: a caller presses 0 in the main menu
and meets a SIPp agent phone; no-answer, abandon and overflow (voicemail) on the same path.

Agents are driven with the operator CLI (``ivr agent login|ready|pause|logout``) and every test logs its
agents out again, so the shared session lab is left as it was found.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from ivr_engine.control.token import control_token
from ivr_engine.lab.agent_phone import AgentBehaviour, AgentPhone, start_agent_phone
from ivr_engine.lab.pcmu import write_talk_audio, write_tone_pcap
from ivr_engine.lab.render import agent_phones
from ivr_engine.lab.sipp import AudioCue, CallerScript, HangupBy

from .conftest import Lab, until

pytestmark = pytest.mark.lab

ALICE = "15550001001"  # seeded: Alice Chen, VIP
_QUALIFY_TIMEOUT_S = 3.0
"""Asterisk's default PJSIP qualify_timeout (the lab's AORs do not set one)."""


# -- helpers ------------------------------------------------------------------------------------------


@asynccontextmanager
async def phone(lab: Lab, agent_id: str, behaviour: AgentBehaviour) -> AsyncIterator[AgentPhone]:
    """Agent ``agent_id``'s SIPp phone, reachable (qualified) before the test goes on; stopped after.

    Right after an earlier phone of the agent stopped, ARI still shows the endpoint online from that
    phone's last qualify, and a qualify sent just before it stopped can still time out (Asterisk's
    default qualify_timeout, 3 s) and mark the endpoint unreachable while the new phone is in use: the
    ACD would then skip the agent. So in that case the new phone waits out the timeout and is qualified
    again before the test goes on."""
    port = next(a.port for a in agent_phones(lab.settings) if a.id == agent_id)
    stale = lab.ari_json(f"/endpoints/PJSIP/{agent_id}")["state"] == "online"
    started = await start_agent_phone(lab.settings, port, behaviour=behaviour)
    try:
        if stale:
            await asyncio.sleep(_QUALIFY_TIMEOUT_S + 0.5)
            lab.asterisk_cli(f"pjsip qualify {agent_id}")
        await _online(lab, agent_id)
        yield started
    finally:
        await started.stop()


async def _online(lab: Lab, agent_id: str, timeout_s: float = 30) -> None:
    for _ in range(int(timeout_s * 4)):
        if lab.ari_json(f"/endpoints/PJSIP/{agent_id}")["state"] == "online":
            return
        await asyncio.sleep(0.25)
    pytest.fail(f"endpoint PJSIP/{agent_id} never came online")


def ivr_ok(lab: Lab, *args: str) -> str:
    done = lab.ivr(*args)
    assert done.returncode == 0, f"ivr {' '.join(args)}:\n{done.stdout}"
    return done.stdout


@contextmanager
def agents(lab: Lab, *ready: str, paused: tuple[str, ...] = ()) -> Iterator[None]:
    """Log agents in (login makes them ready; in that order, so the first has been idle longest), pause
    ``paused``; log all out afterwards."""
    for agent_id in (*ready, *paused):
        ivr_ok(lab, "agent", "login", agent_id)
    for agent_id in paused:
        ivr_ok(lab, "agent", "pause", agent_id, "--reason", "meeting")
    try:
        yield
    finally:
        for agent_id in (*ready, *paused):
            _log_out(lab, agent_id)


def _log_out(lab: Lab, agent_id: str) -> None:
    """Logout is refused while ringing or on a call; wrap-up ends on its own (or by ``ready``).
    An agent still on a call after 20 s fails the test, and every channel is hung up first, so the
    failure stays with this test instead of leaving the agent busy for the next one on the shared lab."""
    stuck = ""
    for attempt in range(60):
        if lab.ivr("agent", "logout", agent_id).returncode == 0:
            if stuck:
                pytest.fail(f"agent {agent_id} still busy 20 s after the test (channels hung up):\n{stuck}")
            return
        if attempt == 40:
            stuck = lab.ivr("agent", "list").stdout
            for channel in lab.ari_json("/channels"):
                lab.ari_delete(f"/channels/{channel['id']}")
        lab.ivr("agent", "ready", agent_id)
        time.sleep(0.5)
    pytest.fail(f"agent {agent_id} could not be logged out:\n{lab.ivr('agent', 'list').stdout}")


def control_json(lab: Lab, path: str) -> Any:
    s = lab.settings
    request = urllib.request.Request(
        f"http://{s.http_host}:{s.http_port}{path}",
        headers={"Authorization": f"Bearer {control_token(s, create=False)}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def rows(lab: Lab, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(lab.settings.state_dir / "ivr.db") as db:
        return db.execute(sql, params).fetchall()


def call_ids(lab: Lab, before: int) -> list[str]:
    """Our call ids (the callers' channel ids) of calls to 100 since event number ``before``."""
    return [
        e["channel"] for e in lab.events()[before:] if e["type"] == "StasisStart" and e["args"] == ["100"]
    ]



def _acd_bridge(lab: Lab) -> dict[str, Any] | None:
    for bridge in lab.ari_json("/bridges"):
        if bridge["id"].startswith("acd-") and len(bridge["channels"]) == 2:
            return dict(bridge)
    return None


def rtp(lab: Lab, channel_id: str) -> tuple[int, int]:
    """(packets received from, packets sent to) the channel's phone: ARI's RTP statistics."""
    stats = lab.ari_json(f"/channels/{channel_id}/rtp_statistics")
    return int(stats["rxcount"]), int(stats["txcount"])



# -- tests --------------------------------------------------------------------------------------------


async def test_press_0_agent_answers_talks_hangs_up_first_and_caller_answers_survey(
    lab: Lab, tmp_path: Path
) -> None:
    """Alice (VIP) presses 0 and meets agent 1003. Each phone sends a tone while bridged: Asterisk's RTP
    counters show packets from and to both phones. The agent hangs up; Alice answers 5, 4, 3."""
    agent_voice = write_talk_audio(tmp_path / "agent-voice.wav", seconds=2)
    # The caller's tone spans the bridge even when the agent answers late; the survey keys follow it.
    tone = write_tone_pcap(tmp_path / "caller-voice.pcap", 12)
    caller_voice = AudioCue(before_key=1, pcap=tone, seconds=15)
    before = len(lab.events())
    behaviour = AgentBehaviour(ring_ms=300, hangup_after_s=8, talk_audio=agent_voice)
    async with phone(lab, "1003", behaviour) as agent_phone:
        with agents(lab, "1003"):
            caller = asyncio.create_task(lab.call(CallerScript(
                number="100", caller_id=ALICE, digits="0543", initial_wait_ms=9000, audio=(caller_voice,),
                pauses_ms=(4500, 2500, 2500, 500), timeout_s=120,
            )))  # fmt: skip
            bridge = await until(lambda: _acd_bridge(lab) if not caller.done() else True, 40, "the bridge")
            assert isinstance(bridge, dict), (await caller).describe()
            assert bridge["bridge_type"] == "mixing"
            legs = bridge["channels"]
            assert any(c.startswith("agent-") for c in legs)
            first = {c: rtp(lab, c) for c in legs}
            last = first
            while _acd_bridge(lab) is not None:  # the last counts while still bridged
                with contextlib.suppress(urllib.error.HTTPError):
                    last = {c: rtp(lab, c) for c in legs}
                await asyncio.sleep(0.5)
            result = await caller
    assert result.ok, result.describe()
    assert result.digits_sent == "0543"
    assert result.hangup_by is HangupBy.FAR_END
    assert agent_phone.log_lines().count("agent-bye") == 1, agent_phone.log_lines()
    (agent_leg,) = (c for c in legs if c.startswith("agent-"))
    (caller_leg,) = (c for c in legs if c != agent_leg)
    sent = {leg: (last[leg][0] - first[leg][0], last[leg][1] - first[leg][1]) for leg in legs}
    # Agent -> caller: the agent's tone arrives on its leg and goes out on the caller's leg.
    assert sent[agent_leg][0] >= 50, f"agent to caller: {first} {last}"
    assert sent[caller_leg][1] >= 50, f"agent to caller: {first} {last}"
    # Caller -> agent: nothing else is sent to the agent's phone (its count starts at 0 when bridged),
    # so packets out on the agent's leg are the caller's tone, mixed through the bridge. (Asterisk 16
    # leaves the caller leg's rxcount at the DTMF packets here, so that counter proves nothing.)
    assert sent[agent_leg][1] >= 100, f"caller to agent: {first} {last}"

    (call_id,) = call_ids(lab, before)
    pop = control_json(lab, "/api/agents/1003/screenpop")
    assert pop["call_id"] == call_id
    assert pop["customer"]["name"] == "Alice Chen"
    assert pop["customer"]["vip"] is True
    menu = [step for step in pop["path"] if (step["flow"], step["node"]) == ("main", "main_menu")]
    assert [step["input"] for step in menu] == ["0"]

    answers = await until(
        lambda: rows(lab, "SELECT question, score, agent_id FROM survey_responses WHERE call_id = ? "
                     "ORDER BY id", call_id), 10, "survey rows")  # fmt: skip
    assert answers == [("agent", 5, "1003"), ("resolved", 4, "1003"), ("recommend", 3, "1003")]
    assert await lab.leftovers() == ([], [])


async def test_first_choice_agent_does_not_answer_is_paused_and_next_agent_answers(lab: Lab) -> None:
    """1001 has been ready longest, so it is rung first; its phone rings on until the queue's ring timeout,
    then 1001 is paused "no answer" and 1002 gets the call."""
    before = len(lab.events())
    async with (
        phone(lab, "1001", AgentBehaviour(answers=False)) as silent,
        phone(lab, "1002", AgentBehaviour(ring_ms=300, hangup_after_s=3)) as answering,
    ):
        with agents(lab, "1001", "1002"):
            caller = asyncio.create_task(lab.call(CallerScript(
                number="100", caller_id="5550601", digits="0", initial_wait_ms=9000, hangup_after_s=40,
                timeout_s=90,
            )))  # fmt: skip
            await until(lambda: answering.answered_calls() == 1 or caller.done(), 60, "agent 1002 to answer")
            listed = ivr_ok(lab, "agent", "list")
            result = await caller
    assert result.answered == 1, result.describe()
    assert silent.log_lines().count("ringing") == 1
    assert silent.log_lines().count("cancelled") == 1
    assert answering.answered_calls() == 1
    row_1001 = next(line for line in listed.splitlines() if line.startswith("1001"))
    assert "paused" in row_1001
    assert "no answer" in listed
    (call_id,) = call_ids(lab, before)
    assert rows(lab, "SELECT agent_id, outcome FROM queue_calls WHERE call_id = ?", call_id) == [
        ("1002", "answered")
    ]
    assert await lab.leftovers() == ([], [])


async def test_caller_hanging_up_while_waiting_is_an_abandoned_queue_call(lab: Lab) -> None:
    """The only agent logged in is paused: the call waits (it could be served), then the caller leaves."""
    before = len(lab.events())
    with agents(lab, paused=("1003",)):
        result = await lab.call(CallerScript(
            number="100", caller_id="5550602", digits="0", initial_wait_ms=9000, hangup_after_s=8,
            timeout_s=60,
        ))  # fmt: skip
        (call_id,) = call_ids(lab, before)
        ended = "SELECT outcome FROM queue_calls WHERE call_id = ? AND outcome IS NOT NULL"
        outcome = await until(lambda: rows(lab, ended, call_id), 10, "the queue call to end")
    assert result.hangup_by is HangupBy.CALLER, result.describe()
    assert outcome == [("abandoned",)]
    assert await lab.leftovers() == ([], [])


async def test_callback_key_while_waiting_books_a_callback_that_keeps_the_place_in_line(lab: Lab) -> None:
    """The only agent is paused, so the caller waits; pressing 1 during the hold offer books a callback
    stamped with the time the caller joined the queue, and the flow thanks them and says goodbye."""
    before = len(lab.events())
    caller = "5550603"
    with agents(lab, paused=("1003",)):
        result = await lab.call(CallerScript(
            number="100", caller_id=caller, digits="01", initial_wait_ms=9000, pauses_ms=(6000, 0),
            timeout_s=60,
        ))  # fmt: skip
        (call_id,) = call_ids(lab, before)
        ended = "SELECT outcome, enqueued FROM queue_calls WHERE call_id = ? AND outcome IS NOT NULL"
        ((outcome, enqueued),) = await until(lambda: rows(lab, ended, call_id), 10, "the queue call to end")
    assert result.hangup_by is HangupBy.FAR_END, result.describe()
    assert outcome == "callback"
    booked = rows(lab, "SELECT id, number, queue, requested, status FROM callbacks WHERE call_id = ?",
                  call_id)
    ((callback_id, *booking, status),) = booked
    assert booking == [caller, "general", enqueued]
    assert status in ("pending", "dialing")  # the dialer puts it back in line at once (nobody ready)
    # Not placed here (tests/lab/test_callbacks_placed.py does): cancelled, it leaves the ACD's line.
    entry = f"callback:{call_id}"
    await until(lambda: entry in json.dumps(control_json(lab, "/api/queues")), 10, "the callback in line")
    ivr_ok(lab, "callbacks", "cancel", str(callback_id))
    await until(lambda: entry not in json.dumps(control_json(lab, "/api/queues")), 10,
                "the callback to leave the line")
    shown = json.loads(ivr_ok(lab, "calls", "show", call_id, "--json"))
    path = [(step["flow"], step["node"], step["outcome"]) for step in shown["path"]]
    assert ("agent", "to_general", "callback") in path
    assert ("agent", "callback_booked", "next") in path
    assert await lab.leftovers() == ([], [])


async def test_a_work_order_logged_during_a_call_shows_in_the_customers_next_screen_pop(lab: Lab) -> None:
    """Alice presses 0 and meets agent 1003; while they talk the agent logs a work order from the call
    (`ivr ticket create --call`); her next call's screen-pop lists it as open."""
    async with phone(lab, "1003", AgentBehaviour(ring_ms=300, hangup_after_s=4)):
        with agents(lab, "1003"):
            before = len(lab.events())
            first = asyncio.create_task(lab.call(CallerScript(
                number="100", caller_id=ALICE, digits="0", initial_wait_ms=9000, hangup_after_s=30,
                timeout_s=90,
            )))  # fmt: skip
            bridge = await until(lambda: _acd_bridge(lab) if not first.done() else True, 40, "the bridge")
            assert isinstance(bridge, dict), (await first).describe()
            (call_id,) = call_ids(lab, before)
            created = json.loads(ivr_ok(lab, "ticket", "create", "--type", "complaint", "--description",
                                        "parcel arrived broken", "--call", call_id, "--by", "agent1003",
                                        "--json"))  # fmt: skip
            assert created["call_id"] == call_id
            assert created["customer"] == "Alice Chen"  # the number of the call found her record
            assert (await first).answered == 1
            lab.ivr("agent", "ready", "1003")  # end a wrap-up still running (refused if ready already)
            before = len(lab.events())
            second = asyncio.create_task(lab.call(CallerScript(
                number="100", caller_id=ALICE, digits="0", initial_wait_ms=9000, hangup_after_s=30,
                timeout_s=90,
            )))  # fmt: skip

            def next_pop() -> dict[str, Any] | None:
                ids = call_ids(lab, before)
                with contextlib.suppress(urllib.error.HTTPError):
                    pop = control_json(lab, "/api/agents/1003/screenpop")
                    if ids and pop["call_id"] == ids[0]:
                        return dict(pop)
                return None

            pop = await until(next_pop, 40, "the screen-pop of Alice's next call")
            assert (await second).answered == 1
    orders = pop["customer"]["work_orders"]
    assert [(o["serial"], o["type"], o["state"]) for o in orders] == [
        (created["serial"], "complaint", "open")]
    assert await lab.leftovers() == ([], [])
