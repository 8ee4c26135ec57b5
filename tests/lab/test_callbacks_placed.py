"""Booked callbacks placed on real calls: a caller presses 1 while waiting (the only agent is paused), the
agent becomes ready, the agent's SIPp phone rings first, then the customer's SIPp phone on the lab's
PSTN port; both phones send a tone and Asterisk's RTP counters show each side receiving the other. A
customer who does not answer: the attempt is recorded, the retry scheduled, the agent freed. A closed
work order's return visit is placed the same way and its screen-pop names the order.

One lab for the module, with a short customer ring time (``IVR_CALLBACK_RING_SECONDS``) so the
no-answer case takes seconds, not the default 30.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.error
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from acd.records.rows import CallbackRow
from ivr_engine.lab.agent_phone import AgentBehaviour, AgentPhone, start_agent_phone
from ivr_engine.lab.pcmu import write_talk_audio
from ivr_engine.lab.sipp import CallerScript, HangupBy
from ivr_engine.storage import Database

from .conftest import Lab, serving_lab, until
from .test_acd_flows import agents, call_ids, control_json, ivr_ok, phone, rows, rtp

pytestmark = pytest.mark.lab

RING_S = 4
RETRY_S = 600
ENV = {"IVR_CALLBACK_RING_SECONDS": str(RING_S), "IVR_CALLBACK_RETRY_SECONDS": str(RETRY_S),
       "IVR_CALLBACK_ATTEMPTS": "3"}


@pytest.fixture(scope="module")
def callback_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    from .conftest import require_lab

    require_lab()
    with serving_lab(Lab.create(tmp_path_factory.mktemp("callbacks")), ("db", "init"), ("db", "seed"),
                     env=ENV) as lab:
        yield lab


@asynccontextmanager
async def customer_phone(lab: Lab, behaviour: AgentBehaviour) -> AsyncIterator[AgentPhone]:
    """The customer's phone: a SIPp UAS on the lab's PSTN port (every customer number rings it)."""
    started = await start_agent_phone(lab.settings, lab.settings.pstn_port, behaviour=behaviour)
    try:
        yield started
    finally:
        await started.stop()


async def book_callback(lab: Lab, caller: str) -> tuple[str, int]:
    """``caller`` presses 0, then 1 at the hold offer: (their call id, the callback's id)."""
    before = len(lab.events())
    result = await lab.call(CallerScript(
        number="100", caller_id=caller, digits="01", initial_wait_ms=9000, pauses_ms=(6000, 0), timeout_s=60,
    ))  # fmt: skip
    assert result.hangup_by is HangupBy.FAR_END, result.describe()
    (call_id,) = call_ids(lab, before)
    booked = await until(lambda: rows(lab, "SELECT id FROM callbacks WHERE call_id = ?", call_id), 10,
                         "the callback row")
    return call_id, int(booked[0][0])


def channels(lab: Lab, prefix: str) -> list[dict[str, Any]]:
    return [c for c in lab.ari_json("/channels") if c["id"].startswith(prefix)]


def bridge_of(lab: Lab, call_id: str) -> dict[str, Any] | None:
    for bridge in lab.ari_json("/bridges"):
        if bridge["id"] == f"acd-callback:{call_id}" and len(bridge["channels"]) == 2:
            return dict(bridge)
    return None


async def test_callback_rings_the_agent_first_then_the_customer_and_both_hear_each_other(
    callback_lab: Lab, tmp_path: Path
) -> None:
    lab = callback_lab
    customer = "5550701"
    agent_voice = write_talk_audio(tmp_path / "agent.wav", seconds=8, hertz=440)
    customer_voice = write_talk_audio(tmp_path / "customer.wav", seconds=8, hertz=880)
    agent_phone_does = AgentBehaviour(ring_ms=1500, hangup_after_s=5, talk_audio=agent_voice)
    async with phone(lab, "1003", agent_phone_does) as agent_phone, \
            customer_phone(lab, AgentBehaviour(ring_ms=300, talk_audio=customer_voice)) as cust_phone:
        with agents(lab, paused=("1003",)):
            call_id, callback_id = await book_callback(lab, customer)
            assert customer in ivr_ok(lab, "callbacks", "list", "--all")
            ivr_ok(lab, "agent", "ready", "1003")
            # Agent first: while the agent's phone rings, nobody has dialled the customer.
            await until(lambda: channels(lab, "agent-"), 15, "the agent's phone to ring")
            assert not channels(lab, "callback-")
            customer_leg = await until(lambda: channels(lab, "callback-"), 15, "the customer's phone to ring")
            assert [c["state"] for c in channels(lab, "agent-")] == ["Up"]  # answered before we dialled
            assert customer_leg[0]["caller"]["number"] == "100"  # the centre's number, not the agent's

            bridge = await until(lambda: bridge_of(lab, call_id), 15, "customer and agent bridged")
            legs = bridge["channels"]
            first = {c: rtp(lab, c) for c in legs}
            last = first
            while bridge_of(lab, call_id) is not None:  # the agent hangs up 5 s after answering
                with contextlib.suppress(urllib.error.HTTPError):
                    last = {c: rtp(lab, c) for c in legs}
                await asyncio.sleep(0.5)
            assert agent_phone.log_lines().count("agent-bye") == 1, agent_phone.log_lines()
            assert cust_phone.answered_calls() == 1
            status = "SELECT status, attempts, agent_id, placed, connected FROM callbacks WHERE id = ?"
            done = await until(lambda: [r for r in rows(lab, status, callback_id) if r[0] == "done"], 10,
                               "the callback to be done")
    (agent_leg,) = (c for c in legs if c.startswith("agent-"))
    (customer_leg_id,) = (c for c in legs if c.startswith("callback-"))
    got = {leg: (last[leg][0] - first[leg][0], last[leg][1] - first[leg][1]) for leg in legs}
    # Each phone's tone arrives on its own leg (rx) and leaves on the other's (tx) while bridged.
    agent_to_customer = (got[agent_leg][0], got[customer_leg_id][1])
    customer_to_agent = (got[customer_leg_id][0], got[agent_leg][1])
    assert min(agent_to_customer) >= 100, f"agent to customer: {got}"
    assert min(customer_to_agent) >= 100, f"customer to agent: {got}"

    ((_, attempts, agent_id, placed, connected),) = done
    assert (attempts, agent_id) == (1, "1003")
    assert datetime.fromisoformat(placed) <= datetime.fromisoformat(connected)
    tried = rows(lab, "SELECT agent_id, result FROM callback_attempts WHERE callback_id = ?", callback_id)
    assert tried == [("1003", "connected")]
    pop = control_json(lab, "/api/agents/1003/screenpop")
    assert (pop["call_id"], pop["reason"], pop["caller"]) == (call_id, "callback", customer)
    path = [(step["flow"], step["node"], step["outcome"]) for step in pop["path"]]
    assert ("agent", "to_general", "callback") in path  # the IVR path of the call it was booked on
    assert await lab.leftovers() == ([], [])


async def test_customer_who_does_not_answer_gets_a_retry_and_the_agent_is_freed(callback_lab: Lab) -> None:
    """The callback is booked straight into the database (the booking itself is the test above): it waits
    in the ACD while nobody is logged in; agent 1002 logs in and is offered it at once."""
    lab = callback_lab
    async with phone(lab, "1002", AgentBehaviour(ring_ms=300)) as agent_phone, \
            customer_phone(lab, AgentBehaviour(answers=False)) as cust_phone:
        callback_id = _booked_in_database(lab, "5550702")
        claimed = "SELECT status FROM callbacks WHERE id = ?"
        await until(lambda: rows(lab, claimed, callback_id) == [("dialing",)], 10, "the dialer's claim")
        with agents(lab, "1002"):
            await until(lambda: "ringing" in cust_phone.log_lines(), 20, "the customer's phone to ring")
            status = "SELECT status, attempts, due FROM callbacks WHERE id = ?"
            retried = await until(lambda: [r for r in rows(lab, status, callback_id) if r[1] == 1],
                                  RING_S + 10, "the attempt to be recorded")
            await until(lambda: control_json(lab, "/api/agents/1002")["state"] == "ready", 10,
                        "agent 1002 ready again")
            await until(lambda: "cancelled" in cust_phone.log_lines(), 5, "the customer's ringing to stop")
            assert agent_phone.log_lines().count("far-end-bye") == 1, agent_phone.log_lines()
    ((state, _, due),) = retried
    assert state == "pending"
    tried = rows(lab, "SELECT agent_id, result, started, ended FROM callback_attempts WHERE callback_id = ?",
                 callback_id)
    assert [(a, r) for a, r, _, _ in tried] == [("1002", "no_answer")]
    (_, _, started, ended), = tried
    rang = (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()
    assert rang < RING_S + 5, f"the agent waited {rang:.1f} s on the line"
    assert (datetime.fromisoformat(due) - datetime.fromisoformat(ended)).total_seconds() == pytest.approx(
        RETRY_S, abs=1)
    assert await lab.leftovers() == ([], [])


async def test_a_closed_work_orders_return_visit_is_placed_and_the_agent_records_its_outcome(
    callback_lab: Lab,
) -> None:
    """Closing an order books its return visit (due a day later: made due now in the database); the
    dialer rings agent 1002, then the customer; the screen-pop says why, with the order and its
    resolution; the outcome recorded with ``ivr ticket visit`` is the order's."""
    lab = callback_lab
    customer = "5550703"
    order = json.loads(ivr_ok(lab, "ticket", "create", "--type", "complaint", "--phone", customer,
                              "--description", "parcel broken", "--json"))
    serial = order["serial"]
    ivr_ok(lab, "ticket", "close", serial, "--resolution", "courier replaced it")
    ((visit_id, due),) = rows(lab, "SELECT id, due FROM callbacks WHERE work_order = ?", serial)
    assert due is not None
    assert f"visit:{serial}" in ivr_ok(lab, "callbacks", "list")
    async with phone(lab, "1002", AgentBehaviour(ring_ms=300, hangup_after_s=2)), \
            customer_phone(lab, AgentBehaviour(ring_ms=300)) as cust_phone:
        with agents(lab, "1002"):
            rows(lab, "UPDATE callbacks SET due = NULL WHERE id = ?", visit_id)
            status = "SELECT status, attempts, agent_id FROM callbacks WHERE id = ?"
            done = await until(lambda: [r for r in rows(lab, status, visit_id) if r[0] == "done"], 25,
                               "the return visit to be placed and connected")
            assert cust_phone.answered_calls() == 1
    assert done == [("done", 1, "1002")]
    pop = control_json(lab, "/api/agents/1002/screenpop")
    assert (pop["reason"], pop["caller"]) == ("return visit", customer)
    assert (pop["visit"]["serial"], pop["visit"]["resolution"]) == (serial, "courier replaced it")
    ivr_ok(lab, "ticket", "visit", serial, "--outcome", "satisfied", "--note", "happy now")
    assert rows(lab, "SELECT visit_outcome FROM work_orders WHERE serial = ?", serial) == [("satisfied",)]
    assert await lab.leftovers() == ([], [])


def _booked_in_database(lab: Lab, number: str) -> int:
    database = Database(lab.settings.db_url)
    try:
        def add(session: Session) -> int:
            row = CallbackRow(call_id=f"booked-{number}", caller=number, number=number, queue="general",
                              requested=datetime.now(UTC), status="pending")
            session.add(row)
            session.flush()
            return row.id

        return database.call(add)
    finally:
        database.dispose()

