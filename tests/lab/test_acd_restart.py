"""Restart without loss: ``ivr serve`` SIGKILLed, or stopped with SIGTERM (as ``systemctl restart``
does), with agents logged in and two callers waiting in the ACD, then started again over the same
database.

Agent 1001 is logged in and paused "coaching", 1002 paused "lunch" (nobody ready), two SIPp callers
press 0 and wait. After ``kill -9`` (or SIGTERM) and a restart both agents are as they were, both
callers are still connected and hear music on hold again within 2 s of the new service connecting to
Asterisk (Asterisk's full log: "Started music on hold ... on channel '<the caller's channel>'", against
the new service's "ari.events.connected" line), and they reach agents in the order they joined the
queue. Its own lab: the test stops the lab's service.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import signal
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
import yaml

from ivr_engine.lab.agent_phone import AgentBehaviour
from ivr_engine.lab.control import Component
from ivr_engine.lab.sipp import CallerScript
from ivr_engine.web import LAB_PASSWORDS_FILE
from ivr_engine.web.session import COOKIE_NAME

from .conftest import Lab, until
from .test_acd_flows import call_ids, control_json, ivr_ok, phone
from .test_faults_asterisk import started_lab

pytestmark = pytest.mark.lab

_CONNECTED = re.compile(r"^(?P<at>\S+ \S+) INFO \S+ ari\.events\.connected ", re.MULTILINE)
"""serve.log: ``2026-12-03 14:07:19,546 INFO ivr_engine.ari.stream ari.events.connected url=...``"""


def _music_on_at(lab: Lab, channel_name: str, at: datetime) -> bool:
    """Was Asterisk playing music on hold to ``channel_name`` at ``at`` (its full log's last MOH line for
    the channel up to then says "Started")? Music a killed service started plays on by itself."""
    text = lab.paths.full_log.read_text(errors="replace")
    name = re.escape(channel_name)
    lines = re.finditer(rf"^\[(?P<at>[^\]]+)\] .*(?P<what>Started|Stopped) music on hold"
                        rf"(, class '\w+',)? on (channel ')?{name}'?$", text, re.MULTILINE)
    state = False
    for line in lines:
        if datetime.strptime(line["at"], "%Y-%m-%d %H:%M:%S.%f") <= at:
            state = line["what"] == "Started"
    return state


def _adopted(lab: Lab, offset: int, channel_id: str) -> datetime | None:
    """When the service (its log after ``offset``) took ``channel_id`` back into the queue (its music
    request follows at once; ARI requests themselves are logged at DEBUG only)."""
    with lab.paths.serve_log.open("rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    found = re.search(rf"^(?P<at>\S+ \S+) INFO \S+ acd\.recovery\.adopted call={re.escape(channel_id)} ",
                      text, re.MULTILINE)
    return datetime.strptime(found["at"], "%Y-%m-%d %H:%M:%S,%f") if found else None


def _connected_since(lab: Lab, offset: int) -> datetime | None:
    """When the service (started after ``offset`` of serve.log) connected to Asterisk's events."""
    with lab.paths.serve_log.open("rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    found = _CONNECTED.search(text)
    return datetime.strptime(found["at"], "%Y-%m-%d %H:%M:%S,%f") if found else None


def _waiting(lab: Lab) -> list[dict[str, Any]]:
    general = next(q for q in control_json(lab, "/api/queues")["queues"] if q["name"] == "general")
    return list(general["waiting"])


def _agent(lab: Lab, agent_id: str) -> dict[str, Any]:
    return dict(control_json(lab, f"/api/agents/{agent_id}"))


def _but_time(agents: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The agents without ``in_state``: the lab's clock starts again at ``clock_start`` on a restart."""
    return {a: {k: v for k, v in view.items() if k != "in_state"} for a, view in agents.items()}


def _bridge_of(lab: Lab, call_id: str) -> list[str] | None:
    found = [b["channels"] for b in lab.ari_json("/bridges") if b["id"] == f"acd-{call_id}"]
    return found[0] if found and len(found[0]) == 2 else None


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def _stop_and_restart(lab: Lab, stop: signal.Signals, order: list[str], names: dict[str, str],
                            agents_before: dict[str, dict[str, Any]]) -> None:
    """Stop ``ivr serve`` with ``stop`` and start it again: the callers of ``order`` are left in Stasis,
    taken back within 2 s of the new service connecting, on music 2 s after that, in the same order;
    the agents as they were."""
    pid = int(lab.paths.pid_file(Component.SERVE).read_text())
    os.kill(pid, stop)  # SIGTERM: a clean stop hands the ACD's callers over to the next run
    await until(lambda: _gone(pid), 20, f"ivr serve to exit on {stop.name}")
    await asyncio.sleep(1.0)
    assert sorted(c["id"] for c in lab.ari_json("/channels")) == sorted(order)  # left in Stasis
    serve_from = lab.paths.serve_log.stat().st_size

    restarted = lab.ivr("lab", "up", "--timeout", "60")
    assert restarted.returncode == 0, restarted.stdout
    back = await until(lambda: _connected_since(lab, serve_from), 20, "the new service to connect")
    asked: dict[str, datetime] = {}
    for call_id in order:
        asked[call_id] = await until(functools.partial(_adopted, lab, serve_from, call_id), 10,
                                     f"the new service to take {call_id} back")
    late = {c: (t - back).total_seconds() for c, t in asked.items() if (t - back).total_seconds() > 2.0}
    assert not late, f"callers taken back more than 2 s after the service was back ({back}): {late}"
    checked = back + timedelta(seconds=2)
    await asyncio.sleep(2.5)  # every request above came after ``back``: Asterisk has logged ``checked``
    silent = [c for c in order if not _music_on_at(lab, names[c], checked)]
    assert not silent, f"no music on hold 2 s after the service was back: {silent}"
    agents_after = {a: _agent(lab, a) for a in agents_before}
    assert {a: (v["state"], v["pause_reason"]) for a, v in agents_after.items()} == {
        "1001": ("paused", "coaching"), "1002": ("paused", "lunch")}
    assert _but_time(agents_after) == _but_time(agents_before)  # the whole record kept
    assert [w["call_id"] for w in _waiting(lab)] == order  # same places in the queue
    assert sorted(c["id"] for c in lab.ari_json("/channels")) == sorted(order)  # both still connected


async def test_serve_killed_or_stopped_with_callers_waiting_keeps_agents_and_callers_and_their_order(
    make_lab: Callable[[], Lab],
) -> None:
    """``kill -9``, restart; then SIGTERM (the callers taken back by the first restart are handed over
    in turn), restart; then the agents get ready and take the callers in order."""
    lab = started_lab(make_lab)
    for agent_id, reason in (("1001", "coaching"), ("1002", "lunch")):
        ivr_ok(lab, "agent", "login", agent_id)
        ivr_ok(lab, "agent", "pause", agent_id, "--reason", reason)
    agents_before = {a: _agent(lab, a) for a in ("1001", "1002")}
    before = len(lab.events())

    def caller(number: str) -> asyncio.Task[Any]:
        return asyncio.create_task(lab.call(CallerScript(
            number="100", caller_id=number, digits="0", initial_wait_ms=9000, hangup_after_s=120,
            timeout_s=180,
        )))  # fmt: skip

    first = caller("5550701")
    await until(lambda: len(_waiting(lab)) == 1 or first.done(), 40, "the first caller to queue")
    second = caller("5550702")
    await until(lambda: len(_waiting(lab)) == 2 or second.done(), 40, "the second caller to queue")
    order = call_ids(lab, before)
    assert [w["call_id"] for w in _waiting(lab)] == order
    names = {c: lab.ari_json(f"/channels/{c}")["name"] for c in order}

    for stop in (signal.SIGKILL, signal.SIGTERM):
        await _stop_and_restart(lab, stop, order, names, agents_before)
        assert not first.done()
        assert not second.done()

    answering = AgentBehaviour(ring_ms=300, hangup_after_s=3)
    async with phone(lab, "1002", answering) as phone_1002, phone(lab, "1001", answering) as phone_1001:
        ivr_ok(lab, "agent", "ready", "1002")
        bridged = await until(lambda: _bridge_of(lab, order[0]), 30, "the first caller to meet 1002")
        assert _bridge_of(lab, order[1]) is None  # the second caller still waits
        ivr_ok(lab, "agent", "ready", "1001")
        await until(lambda: _bridge_of(lab, order[1]), 30, "the second caller to meet 1001")
        results = [await first, await second]
    assert all(r.answered == 1 for r in results), [r.describe() for r in results]
    assert phone_1002.answered_calls() == 1
    assert phone_1001.answered_calls() == 1
    assert order[0] in bridged
    for agent_id in ("1001", "1002"):
        lab.ivr("agent", "logout", agent_id)
    assert await lab.leftovers() == ([], [])


def _consult_legs(lab: Lab, call_id: str) -> list[str]:
    found = [b["channels"] for b in lab.ari_json("/bridges") if b["id"] == f"consult-{call_id}"]
    return sorted(found[0]) if found else []


async def test_serve_killed_during_a_consult_gives_the_caller_back_to_the_first_agent(
    make_lab: Callable[[], Lab],
) -> None:
    """A consult under way (the caller on music, 1003's and 1002's legs in the consult bridge) when
    ``ivr serve`` is killed: after the restart the consult is over (``acd.live.recovery``): the caller is
    bridged with 1003's leg again, 1002's leg is hung up and 1002 is ready, the consult bridge is gone;
    then the call ends as any other."""
    lab = started_lab(make_lab)
    users = yaml.safe_load((lab.settings.state_dir / LAB_PASSWORDS_FILE).read_text())["users"]
    base = f"http://{lab.settings.http_host}:{lab.settings.http_port}"
    talk = AgentBehaviour(ring_ms=300)
    before = len(lab.events())
    async with phone(lab, "1003", talk) as first_phone, phone(lab, "1002", talk) as second_phone, \
            aiohttp.ClientSession(base, headers={"Origin": base}) as desk:
        ivr_ok(lab, "agent", "login", "1003")
        caller = asyncio.create_task(lab.call(CallerScript(
            number="100", caller_id="5550801", digits="0", initial_wait_ms=9000, hangup_after_s=90,
            timeout_s=120,
        )))  # fmt: skip
        try:
            call_id = (await until(lambda: call_ids(lab, before), 20, "the call to start"))[0]
            with_1003 = "the caller with 1003"
            bridge = await until(lambda: caller.done() or _bridge_of(lab, call_id), 40, with_1003)
            assert isinstance(bridge, list), (await caller).describe()
            (first_leg,) = [leg for leg in bridge if leg != call_id]
            ivr_ok(lab, "agent", "login", "1002")
            sign_in = {"username": "agent1003", "password": users["agent1003"]["password"]}
            async with desk.post("/login", json=sign_in) as signed:
                assert signed.status == 200, await signed.text()
                cookie = {COOKIE_NAME: signed.cookies[COOKIE_NAME].value}
            consult = f"/web/calls/{call_id}/consult"
            async with desk.post(consult, json={"agent": "1002"}, cookies=cookie) as asked:
                assert asked.status == 200, await asked.text()
            legs = await until(lambda: len(_consult_legs(lab, call_id)) == 2 and _consult_legs(lab, call_id),
                               20, "1002 to answer the consult")
            assert first_leg in legs
            assert _bridge_of(lab, call_id) is None  # the caller on music, alone

            pid = int(lab.paths.pid_file(Component.SERVE).read_text())
            os.kill(pid, signal.SIGKILL)
            await until(lambda: _gone(pid), 20, "ivr serve to exit")
            restarted = lab.ivr("lab", "up", "--timeout", "60")
            assert restarted.returncode == 0, restarted.stdout

            back = await until(lambda: _bridge_of(lab, call_id), 20, "the caller back with 1003")
            assert sorted(back) == sorted([call_id, first_leg])
            await until(lambda: "far-end-bye" in second_phone.log_lines(), 20, "1002's consult leg hung up")
            await until(lambda: _agent(lab, "1002")["state"] == "ready", 20, "1002 ready again")
            assert _consult_legs(lab, call_id) == []
            assert _agent(lab, "1003")["state"] == "on_call"
            assert not caller.done()

            lab.ari_delete(f"/channels/{call_id}")  # the caller hangs up: the call ends as any other
            await until(lambda: "far-end-bye" in first_phone.log_lines(), 20, "1003's phone hung up")
            await asyncio.wait_for(asyncio.shield(caller), 30)
        finally:
            caller.cancel()
            await asyncio.gather(caller, return_exceptions=True)
    for agent_id in ("1002", "1003"):
        lab.ivr("agent", "logout", agent_id)
    assert await lab.leftovers() == ([], [])
