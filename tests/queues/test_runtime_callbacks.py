"""The callback dialer on a fake Asterisk: a booked callback waits in its original place, rings the agent
first, then dials the customer through the PSTN trunk and bridges them; busy / no answer frees the agent
and puts the callback back in line per the retry policy. The clock is injected (real time plus a jump)."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import pytest

import acd
from acd.records.dialing import Attempt, DueCallback
from acd.retry_policy import AttemptResult, NextStep, RetryPolicy
from acd.sql_store import SqlStore
from tests.queues.conftest import Lab

CUSTOMER = "+1 (555) 060-3000"
DIALLED = "PJSIP/15550603000@pstn"


@dataclass
class FakeBook:
    """An in-memory ``CallbackBook``: hands out ``due`` once, keeps every finished attempt."""

    due: list[DueCallback] = field(default_factory=list)
    finished: list[tuple[Attempt, NextStep]] = field(default_factory=list)
    released: int = 0
    cancelled: set[int] = field(default_factory=set)
    outage: int = 0
    """The next ``outage`` claims fail as a database that is away does."""

    async def claim_due(self, now: float, limit: int) -> list[DueCallback]:
        if self.outage > 0:
            self.outage -= 1
            raise ConnectionError("database away")
        ready = list(self.due[:limit])
        self.due = self.due[limit:]
        return ready

    async def finish(self, attempt: Attempt, step: NextStep) -> None:
        self.finished.append((attempt, step))

    async def release_claims(self) -> int:
        self.released += 1
        return 0

    async def withdrawn(self, callback_ids: Collection[int]) -> set[int]:
        return set(callback_ids) & self.cancelled


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def _callback(requested: float, *, attempts: int = 0) -> DueCallback:
    return DueCallback(7, "orig-1", CUSTOMER, "general", requested, 0, attempts)


def _customer_legs(lab: Lab) -> list[tuple[str, dict[str, Any]]]:
    return [(r.path.split("/")[2], dict(r.params)) for r in lab.fake.calls("POST", "/channels/")
            if r.params.get("appArgs", "").startswith("agent,customer,")]


async def test_callback_keeps_its_place_rings_the_agent_first_then_dials_and_bridges_the_customer(
    start_lab: Any,
) -> None:
    book, clock = FakeBook(), Clock()
    lab: Lab = await start_lab(callbacks=book, clock=clock,
                               options={"outbound_caller_id": "100", "callback_ring_seconds": 20})
    await lab.runtime.login("1003")
    await lab.runtime.pause("1003", "meeting")
    await lab.fake.incoming("c1", "100", caller="555")  # a caller who joined the queue after the booking
    await lab.until(lambda: lab.runtime.engine.store.call("c1") is not None)
    book.due.append(_callback(clock() - 120))
    entry = acd.callback_entry("orig-1")
    await lab.until(lambda: lab.runtime.engine.store.call(entry) is not None)
    assert lab.runtime.engine.store.call(entry).enqueued_at < lab.runtime.engine.store.call("c1").enqueued_at

    await lab.runtime.ready("1003")
    await lab.until(lambda: lab.legs(entry))  # the callback's older place wins over c1
    assert not lab.legs("c1")
    (leg, endpoint), = lab.legs(entry)
    assert endpoint == "PJSIP/1003"
    assert not _customer_legs(lab)  # agent first: the customer is not dialled before the agent answers
    await lab.agent_answers(leg, entry)

    await lab.until(lambda: _customer_legs(lab))
    (customer, params), = _customer_legs(lab)
    assert params["endpoint"] == DIALLED
    assert params["callerId"] == "100"
    assert params["timeout"] == "20"
    await lab.fake.incoming(customer, "agent", "customer", "orig-1", caller="15550603000")
    bridge = f"acd-{entry}"
    await lab.until(lambda: lab.fake.bridges.get(bridge, {}).get("channels") == sorted([customer, leg]))
    assert lab.state("1003") is acd.AgentState.ON_CALL

    await lab.fake.caller_hangup(leg)  # the agent hangs up first
    await lab.until(lambda: book.finished)
    await lab.runtime.drain()
    ((attempt, step),) = book.finished
    assert (attempt.callback_id, attempt.agent_id, attempt.result) == (7, "1003", AttemptResult.CONNECTED)
    assert step == NextStep("done", 1, None)
    await lab.until(lambda: customer not in lab.fake.channels and bridge not in lab.fake.bridges)
    assert lab.runtime.engine.store.call(entry) is None
    assert not [f for f in lab.facts.of("enqueued") if f["call_id"] == entry]  # queue stats: inbound only
    await lab.until(lambda: lab.legs("c1"))  # the agent is free again (0 s wrap-up): c1 is next


async def test_busy_customer_frees_the_agent_at_once_and_the_callback_is_retried_later(
    start_lab: Any,
) -> None:
    book, clock = FakeBook(), Clock()
    lab: Lab = await start_lab(callbacks=book, clock=clock, wrap_up_seconds=30,
                               options={"callback_policy": RetryPolicy(attempts=3, spacing_s=600)})
    await lab.runtime.login("1001")
    book.due.append(_callback(clock() - 60, attempts=1))
    entry = acd.callback_entry("orig-1")
    await lab.until(lambda: lab.legs(entry))
    leg = lab.legs(entry)[0][0]
    await lab.agent_answers(leg, entry)
    await lab.until(lambda: _customer_legs(lab))
    customer = _customer_legs(lab)[0][0]
    await lab.until(lambda: customer in lab.fake.channels)  # recorded by the fake before it is made
    channel = lab.fake.channels.pop(customer)
    await lab.fake.push({"type": "ChannelDestroyed", "cause": 17, "cause_txt": "User busy",
                         "channel": channel})

    await lab.until(lambda: book.finished)
    ((attempt, step),) = book.finished
    assert attempt.result is AttemptResult.BUSY
    assert (step.status, step.attempts, step.due_at) == ("pending", 2, attempt.ended + 600)
    await lab.until(lambda: lab.fake.calls("DELETE", f"/channels/{leg}"))  # the agent's leg hung up
    await lab.until(lambda: lab.state("1001") is acd.AgentState.READY)  # no wrap-up: nobody talked
    assert lab.runtime.engine.store.call(entry) is None


async def test_an_unanswered_last_attempt_gives_the_callback_up_within_the_ring_time(start_lab: Any) -> None:
    book, clock = FakeBook(), Clock()
    lab: Lab = await start_lab(callbacks=book, clock=clock,
                               options={"callback_policy": RetryPolicy(attempts=2, spacing_s=60),
                                        "callback_ring_seconds": 0})
    await lab.runtime.login("1002")
    book.due.append(_callback(clock() - 60, attempts=1))
    entry = acd.callback_entry("orig-1")
    await lab.until(lambda: lab.legs(entry))
    leg = lab.legs(entry)[0][0]
    await lab.agent_answers(leg, entry)
    await lab.until(lambda: book.finished, wait=8)  # nobody answers: our own ring limit (0 s + margin)
    ((attempt, step),) = book.finished
    assert attempt.result is AttemptResult.NO_ANSWER
    assert attempt.ended - attempt.started < 5
    assert step == NextStep("failed", 2, None)
    customer = _customer_legs(lab)[0][0]
    assert lab.fake.calls("DELETE", f"/channels/{customer}")
    await lab.until(lambda: lab.state("1002") is acd.AgentState.READY)


async def test_a_withheld_number_is_given_up_without_ringing_anyone(start_lab: Any) -> None:
    book, clock = FakeBook(), Clock()
    lab: Lab = await start_lab(callbacks=book, clock=clock)
    await lab.runtime.login("1002")
    book.due.append(DueCallback(8, "orig-2", "anonymous", "general", clock() - 5, 0, 0))
    await lab.until(lambda: book.finished)
    ((attempt, step),) = book.finished
    assert (attempt.agent_id, attempt.result) == ("", AttemptResult.NOT_DIALABLE)
    assert step.status == "failed"
    assert not lab.legs(acd.callback_entry("orig-2"))
    assert not _customer_legs(lab)
    assert lab.state("1002") is acd.AgentState.READY


async def test_a_callback_whose_queue_left_the_configuration_is_given_up_once(start_lab: Any) -> None:
    book, clock = FakeBook(), Clock()
    lab: Lab = await start_lab(callbacks=book, clock=clock)
    await lab.runtime.login("1002")
    book.due.append(DueCallback(9, "orig-3", "5551234", "closed-desk", clock() - 5, 0, 0))
    await lab.until(lambda: book.finished)
    ((attempt, step),) = book.finished
    assert (attempt.agent_id, attempt.result) == ("", AttemptResult.NO_QUEUE)
    assert step.status == "failed"  # not back in line to be refused again at every tick
    assert not lab.legs(acd.callback_entry("orig-3"))
    assert lab.state("1002") is acd.AgentState.READY


async def test_a_callback_cancelled_while_waiting_for_an_agent_leaves_the_line(start_lab: Any) -> None:
    book, clock = FakeBook(), Clock()
    lab: Lab = await start_lab(callbacks=book, clock=clock)
    book.due.append(_callback(clock() - 60))
    entry = acd.callback_entry("orig-1")
    await lab.until(lambda: lab.runtime.engine.store.call(entry) is not None)  # nobody logged in: it waits
    assert book.released == 1  # a (re)started dialer first takes back its node's claims
    book.cancelled.add(7)
    await lab.until(lambda: lab.runtime.engine.store.call(entry) is None)
    await lab.runtime.login("1001")
    await lab.runtime.drain()
    assert not lab.legs(entry)
    assert book.finished == []  # no attempt: nobody was called


async def test_a_database_outage_delays_callbacks_and_is_logged_once(
    start_lab: Any, caplog: pytest.LogCaptureFixture
) -> None:
    book, clock = FakeBook(outage=6), Clock()
    caplog.set_level(logging.INFO, logger="acd.live.dialer")
    lab: Lab = await start_lab(callbacks=book, clock=clock)
    book.due.append(_callback(clock() - 60))
    entry = acd.callback_entry("orig-1")
    await lab.until(lambda: lab.runtime.engine.store.call(entry) is not None)
    assert book.outage == 0
    messages = [r.getMessage() for r in caplog.records if r.name == "acd.live.dialer"]
    assert sum("acd.callback.claim_failed" in m for m in messages) == 1, messages
    assert sum("acd.callback.claims_again" in m for m in messages) == 1, messages


async def test_a_clean_stop_hands_over_waiting_callers_but_not_a_callback_being_placed(
    migrated_settings: Any, start_lab: Any,
) -> None:
    """A callback being placed (agent 1003 on it, the customer bridged) does not survive a restart: at a
    clean stop its legs are not handed over (the dialer's claim goes back in line); caller c1, waiting in
    the queue meanwhile, is.

    (The database first: fixtures end in the reverse order, so the lab, whose ticks read the store,
    stops before the database is dropped; the other way round, PostgreSQL's DROP SCHEMA could deadlock
    with a tick's transaction.)"""
    book, clock = FakeBook(), Clock()
    lab: Lab = await start_lab(callbacks=book, clock=clock, recover=True,
                               store=SqlStore(migrated_settings.db_url))
    await lab.runtime.login("1003")
    book.due.append(_callback(clock() - 120))
    entry = acd.callback_entry("orig-1")
    await lab.until(lambda: lab.legs(entry))
    (leg, _), = lab.legs(entry)
    await lab.agent_answers(leg, entry)
    await lab.until(lambda: _customer_legs(lab))
    (customer, _), = _customer_legs(lab)
    await lab.fake.incoming(customer, "agent", "customer", "orig-1", caller="15550603000")
    bridge = f"acd-{entry}"
    await lab.until(lambda: lab.fake.bridges.get(bridge, {}).get("channels") == sorted([customer, leg]))
    await lab.fake.incoming("c1", "100", caller="555")
    await lab.until(lambda: lab.runtime.engine.store.call("c1") is not None)

    assert lab.runtime.hand_over() == {"c1"}
