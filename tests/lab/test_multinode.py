"""Two Asterisk nodes behind Kamailio (``ivr lab up --nodes 2``) on one PostgreSQL database.

SIPp callers dial Kamailio; each call row names the node that handled it (``calls.node``, and the call id
starts with the node's name). One module-scoped lab serves every test here, in order: the status, calls
spread over both nodes, the desk of one node acting on a call the other holds, then node 2 killed with
``kill -9`` under calls and brought back.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ivr_engine.lab.agent_phone import AgentBehaviour
from ivr_engine.lab.kamailio import DispatcherTarget, KamailioFiles, NodeState, dispatcher_view
from ivr_engine.lab.probe import pid_alive
from ivr_engine.lab.sipp import CallerScript, HangupBy, SippResult
from ivr_engine.web import LAB_PASSWORDS_FILE
from ivr_engine.web.session import COOKIE_NAME

from .conftest import Lab, in_ci, require_lab, serving_lab, until
from .nodes_acd import (
    SseLog,
    agent_phone,
    agent_state,
    bridged,
    call_node,
    cli_ok,
    node_ivr,
    queue_caller,
    rows,
    waiting_callers,
)

pytestmark = [pytest.mark.lab, pytest.mark.postgres]

DEAD_NODE_NOTICED_S = 5.0
"""Kamailio stops sending new calls to a killed node within this long (issue 12)."""


@dataclass(frozen=True)
class TwoNodes:
    """The running lab (its SIP port is Kamailio's) and the database its nodes share."""

    lab: Lab
    env: dict[str, str]
    db_url: str

    def ivr_json(self, *args: str) -> Any:
        done = self.lab.ivr(*args, "--json", extra_env=self.env)
        assert done.returncode == 0, done.stdout
        return json.loads(done.stdout)

    @property
    def kamailio(self) -> KamailioFiles:
        return KamailioFiles(self.lab.paths.kamailio)

    def view(self) -> dict[str, DispatcherTarget]:
        return {target.node: target for target in dispatcher_view(self.kamailio) or []}

    def calls_of(self, callers: list[str]) -> dict[str, dict[str, Any]]:
        """The call row (id, node, disposition) of each caller that has one."""
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT id, caller, node, disposition FROM calls WHERE caller = ANY(:callers)"),
                    {"callers": callers},
                ).all()
        finally:
            engine.dispose()
        return {row.caller: dict(row._mapping) for row in rows}

    def read_back(self, call_ids: list[str]) -> dict[str, str | None]:
        """What the line check read back on each call (its ``read_back`` node's input)."""
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT call_id, input FROM node_events "
                        "WHERE node = 'read_back' AND call_id = ANY(:ids)"
                    ),
                    {"ids": call_ids},
                ).all()
        finally:
            engine.dispose()
        return {row.call_id: row.input for row in rows}

    async def rows_for(self, callers: list[str], timeout_s: float = 15) -> dict[str, dict[str, Any]]:
        """Wait until every caller has a call row (the write-behind queue stores it within ~0.25 s)."""
        rows: dict[str, dict[str, Any]] = {}
        for _ in range(int(timeout_s * 4)):
            rows = self.calls_of(callers)
            if len(rows) == len(callers):
                return rows
            await asyncio.sleep(0.25)
        pytest.fail(f"call rows of {sorted(set(callers) - set(rows))} not stored after {timeout_s:.0f} s")


def _require_kamailio() -> None:
    if shutil.which("kamailio") is None:
        reason = "kamailio not installed: run sip-lab/install (as root)"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str) -> Iterator[TwoNodes]:
    """``ivr lab up --nodes 2`` on a fresh PostgreSQL schema, seeded; down and dropped afterwards."""
    require_lab()
    _require_kamailio()
    schema = f"ivr_nodes_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    db_url = url.render_as_string(hide_password=False)
    env = {"IVR_DATABASE_URL": db_url}
    try:
        lab = Lab.create(tmp_path_factory.mktemp("nodes"))
        with serving_lab(lab, ("db", "init"), ("db", "seed"), env=env, nodes=2) as running:
            yield TwoNodes(lab=running, env=env, db_url=db_url)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_status_lists_every_node_its_pids_and_ports_and_kamailios_view(two_nodes: TwoNodes) -> None:
    shown = two_nodes.ivr_json("lab", "status")
    kamailio = shown["kamailio"]
    assert kamailio["running"]
    assert pid_alive(kamailio["pid"], str(two_nodes.kamailio.config))
    assert kamailio["sip"] == f"127.0.0.1:{two_nodes.lab.settings.sip_port}"
    assert [n["node"] for n in shown["nodes"]] == ["node1", "node2"]
    ports = {kamailio["sip"]}
    for node in shown["nodes"]:
        assert node["running"], node
        assert all(c["running"] and c["pid"] for c in node["components"]), node
        assert node["dispatcher"]["state"] == "active", node
        assert node["dispatcher"]["uri"] == f"sip:{node['sip']}"
        ports |= {node["sip"], node["ari_url"], node["web"]}
    assert len(ports) == 7  # nobody shares a port
    assert shown["nodes"][0]["ari_url"] == two_nodes.lab.settings.ari_url  # node 1 keeps the lab's ARI

    table = two_nodes.lab.ivr("lab", "status", extra_env=two_nodes.env)
    assert table.returncode == 0, table.stdout
    rows = (r"proxy +kamailio +running +\d+", r"node1 +asterisk +running +\d+", r"node2 +serve +running +\d+",
            r"node2 +dispatcher +active")  # fmt: skip
    for row in rows:
        assert re.search(f"^{row}", table.stdout, re.M), table.stdout


async def test_callers_through_kamailio_reach_both_nodes_and_hear_the_ivr(two_nodes: TwoNodes) -> None:
    callers = [f"55571{i:02d}" for i in range(4)]
    results = await asyncio.gather(
        *(
            two_nodes.lab.call(CallerScript(number="199", caller_id=c, digits="42#", timeout_s=40))
            for c in callers
        )
    )
    assert all(r.ok and r.hangup_by == HangupBy.FAR_END for r in results), [r.describe() for r in results]

    proxy_via = f"Via: SIP/2.0/UDP 127.0.0.1:{two_nodes.lab.settings.sip_port};"
    for result in results:  # Record-Route: the node's BYE came back through Kamailio
        received = result.message_log.read_text(errors="replace").split("\nBYE sip:", 1)
        assert len(received) == 2, f"no BYE in {result.message_log}"
        assert received[1].splitlines()[1].startswith(proxy_via), received[1][:400]

    rows = await two_nodes.rows_for(callers)
    # Round-robin gives 2 and 2; a node slow to answer an INVITE on a busy machine lends one to the other.
    assert {row["node"] for row in rows.values()} == {"node1", "node2"}, rows
    assert all(row["id"].startswith(f"{row['node']}-") for row in rows.values()), rows
    ids = [row["id"] for row in rows.values()]
    assert two_nodes.read_back(ids) == dict.fromkeys(ids, "42"), rows  # each node's IVR heard the keys


async def test_one_centre_an_agent_on_node1_serves_callers_of_both_nodes_in_arrival_order(
    two_nodes: TwoNodes,
) -> None:
    """Agent 1003, logged in and paused through node 1's CLI; a caller waits on node 2, then one on
    node 1: node 1's ``queue status`` shows both in arrival order. ``ivr agent ready`` on node 1 makes the
    offer for node 2's caller, which node 2 rings and bridges; after the wrap-up node 1's caller."""
    lab, env = two_nodes.lab, two_nodes.env
    first, second = "5557601", "5557602"
    async with agent_phone(lab, env, "1003", AgentBehaviour(ring_ms=300, hangup_after_s=1)) as phone:
        cli_ok(lab, env, "node1", "agent", "login", "1003")
        cli_ok(lab, env, "node1", "agent", "pause", "1003", "--reason", "meeting")
        on_node2 = on_node1 = asyncio.create_task(asyncio.sleep(0))
        try:
            assert agent_state(lab, env, "node2", "1003")["pause_reason"] == "meeting"  # node 2 sees it
            on_node2 = asyncio.create_task(call_node(lab, env, "node2", queue_caller(first)))
            await two_nodes.rows_for([first])  # node 2 has the call; node 1's caller queues 2 s later
            on_node1 = asyncio.create_task(call_node(lab, env, "node1", queue_caller(second, wait_ms=11000)))
            both = [first, second]
            waiting = "SELECT caller FROM acd_waiting_calls ORDER BY enqueued_at, seq"
            await until(lambda: len(rows(two_nodes.db_url, waiting)) == 2 or on_node1.done(), 40,
                        "both callers waiting")
            assert waiting_callers(lab, env, "node1") == both  # the whole centre, in arrival order
            assert waiting_callers(lab, env, "node2") == both
            cli_ok(lab, env, "node1", "agent", "ready", "1003")
            answered = ("SELECT call_id, agent_id, answered FROM queue_calls WHERE caller IN (:a, :b) "
                        "AND answered IS NOT NULL ORDER BY answered")

            def both_answered() -> list[dict[str, Any]]:
                found = rows(two_nodes.db_url, answered, a=first, b=second)
                return found if len(found) == 2 else []

            served = await until(both_answered, 60, "both callers answered")
        finally:
            for caller in (on_node2, on_node1):  # their flows go on after the agent: no need to wait
                caller.cancel()
            await asyncio.gather(on_node2, on_node1, return_exceptions=True)
            _log_out(two_nodes, "1003")
    calls = await two_nodes.rows_for([first, second])
    assert [r["call_id"] for r in served] == [calls[first]["id"], calls[second]["id"]], (served, calls)
    assert {r["agent_id"] for r in served} == {"1003"}
    assert (calls[first]["node"], calls[second]["node"]) == ("node2", "node1")
    assert phone.answered_calls() == 2


def _log_out(two_nodes: TwoNodes, agent_id: str) -> None:
    """Log the agent out through node 1 (ready first if paused by a no-answer, once a wrap-up ends)."""
    lab, env = two_nodes.lab, two_nodes.env
    for _ in range(40):
        if node_ivr(lab, env, "node1", "agent", "logout", agent_id).returncode == 0:
            return
        node_ivr(lab, env, "node1", "agent", "ready", agent_id)
        time.sleep(0.5)
    pytest.fail(f"agent {agent_id} could not be logged out")


DEAD_NODE_RELEASED_S = 15.0
"""A survivor releases a killed node's ACD state within its lease (10 s), a third of it to notice, a tick."""


@dataclass
class AcdOnNode2:
    """Agent 1002 (logged in through node 1) talking to a caller of node 2, another caller of node 2
    waiting in the queue."""

    talker: str
    holder: str
    calls: list[asyncio.Task[SippResult]]


@pytest.fixture
async def acd_on_node2(two_nodes: TwoNodes) -> AsyncIterator[AcdOnNode2]:
    lab, env = two_nodes.lab, two_nodes.env
    acd = AcdOnNode2("5557701", "5557702", [])
    async with agent_phone(lab, env, "1002", AgentBehaviour(ring_ms=300)):
        cli_ok(lab, env, "node1", "agent", "login", "1002")
        try:
            acd.calls.append(asyncio.create_task(call_node(lab, env, "node2", queue_caller(acd.talker))))
            await two_nodes.rows_for([acd.talker])  # the holder queues 3 s after the talker
            later = queue_caller(acd.holder, wait_ms=12000)
            acd.calls.append(asyncio.create_task(call_node(lab, env, "node2", later)))
            await until(lambda: _acd_agent(two_nodes, "1002")["state"] == "on_call", 40, "1002 to answer")
            await until(lambda: rows(two_nodes.db_url, "SELECT caller FROM acd_waiting_calls"), 40,
                        "node2's second caller to wait")
            yield acd
        finally:
            for call in acd.calls:
                call.cancel()
            await asyncio.gather(*acd.calls, return_exceptions=True)
            _log_out(two_nodes, "1002")


def _acd_agent(two_nodes: TwoNodes, agent_id: str) -> dict[str, Any]:
    (row,) = rows(two_nodes.db_url, "SELECT state, node FROM acd_agents WHERE id = :id", id=agent_id)
    return row


async def _until_released(two_nodes: TwoNodes, acd: AcdOnNode2, since: float) -> float:
    """Seconds from ``since`` until node 1 released node 2's agent and waiting caller."""
    while time.monotonic() - since < DEAD_NODE_RELEASED_S + 10:
        agent = _acd_agent(two_nodes, "1002")
        if agent["state"] != "on_call" and not rows(two_nodes.db_url, "SELECT 1 FROM acd_waiting_calls"):
            return time.monotonic() - since
        await asyncio.sleep(0.25)
    pytest.fail(f"node2's agent and caller still held {DEAD_NODE_RELEASED_S + 10:.0f} s after the kill")


async def _until_inactive(two_nodes: TwoNodes, node: str, since: float, limit_s: float) -> float:
    while time.monotonic() - since < limit_s + 5:
        target = (await asyncio.to_thread(two_nodes.view)).get(node)
        if target is not None and target.state is not NodeState.ACTIVE:
            return time.monotonic() - since
        await asyncio.sleep(0.05)
    pytest.fail(f"Kamailio still routes calls to {node} {limit_s + 5:.0f} s after it was killed")


async def test_the_desk_served_by_node1_holds_resumes_and_hangs_up_a_call_node2_bridged(
    two_nodes: TwoNodes,
) -> None:
    """Agent 1002 (logged in through node 1) answers a caller of node 2; their desk is served by node 1,
    which does not hold the bridge: Hold, Resume and Hang up posted to node 1 are carried out by node 2
    (``ivr_engine.web.forward``), and the call ends. The desk's event feed on node 1 hears node 2's
    events (``acd.live.node_bus``): the answer, the screen-pop, the hold and the end."""
    lab, env = two_nodes.lab, two_nodes.env
    talker = "5557801"
    node1 = next(n for n in two_nodes.ivr_json("lab", "status")["nodes"] if n["node"] == "node1")
    base = node1["web"]
    users = yaml.safe_load((lab.settings.state_dir / LAB_PASSWORDS_FILE).read_text())["users"]
    async with agent_phone(lab, env, "1002", AgentBehaviour(ring_ms=300)), \
            aiohttp.ClientSession(base, headers={"Origin": base}) as desk:
        sign_in = {"username": "agent1002", "password": users["agent1002"]["password"]}
        async with desk.post("/login", json=sign_in) as signed:
            assert signed.status == 200, await signed.text()
            cookie = {COOKIE_NAME: signed.cookies[COOKIE_NAME].value}
        cli_ok(lab, env, "node1", "agent", "login", "1002")
        async with desk.get("/web/agents/1002/events", cookies=cookie) as feed:
            assert feed.status == 200
            heard = SseLog(feed)
            await heard.until(lambda e: e[0] == "agent" and e[1]["state"] == "ready")
            talk = asyncio.create_task(call_node(lab, env, "node2", queue_caller(talker)))
            try:
                await until(lambda: _acd_agent(two_nodes, "1002")["state"] == "on_call", 40, "1002 to answer")
                assert _acd_agent(two_nodes, "1002") == {"state": "on_call", "node": "node2"}
                call_id = (await two_nodes.rows_for([talker]))[talker]["id"]
                answered = await heard.until(lambda e: e[0] == "answered" and e[1]["call_id"] == call_id)
                assert answered[1]["node"] == "node2"
                await heard.until(lambda e: e[0] == "screenpop" and e[1]["call_id"] == call_id)
                await until(lambda: bridged(lab, env, "node2", call_id) == 2, 20, "caller and agent bridged")
                for control, held in (("hold", True), ("resume", False), ("hangup", False)):
                    path = f"/web/calls/{call_id}/{control}"
                    async with desk.post(path, json={}, cookies=cookie) as answer:
                        assert answer.status == 200, (control, await answer.text())
                        assert (await answer.json())["held"] is held
                    if control == "hold":  # node 2's event redraws node 1's desk: held, Resume offered
                        shown = await heard.until(lambda e: e[0] == "agent" and e[1]["held"] is True)
                        assert shown[1]["call_controls"][0] == "resume"
                await heard.until(lambda e: e[0] == "ended" and e[1]["call_id"] == call_id)
                over = "the call to end"
                await until(lambda: _acd_agent(two_nodes, "1002")["state"] != "on_call", 20, over)
                await asyncio.wait_for(asyncio.shield(talk), 20)  # the caller was hung up
            finally:
                talk.cancel()
                await asyncio.gather(talk, return_exceptions=True)
                await heard.close()
                _log_out(two_nodes, "1002")


async def test_a_killed_node_gets_no_new_calls_and_the_other_nodes_calls_go_on(
    two_nodes: TwoNodes, acd_on_node2: AcdOnNode2
) -> None:
    assert _acd_agent(two_nodes, "1002") == {"state": "on_call", "node": "node2"}
    # Calls that last across the kill: the caller waits 7 s before typing, then hears the read-back.
    long_callers = [f"55572{i:02d}" for i in range(4)]
    long_calls = [
        asyncio.create_task(two_nodes.lab.call(
            CallerScript(number="199", caller_id=c, digits="42#", initial_wait_ms=7000, timeout_s=22)
        ))
        for c in long_callers
    ]  # fmt: skip
    before = await two_nodes.rows_for(long_callers)
    on_node1 = sorted(c for c, row in before.items() if row["node"] == "node1")
    assert {row["node"] for row in before.values()} == {"node1", "node2"}, before

    node2 = next(n for n in two_nodes.ivr_json("lab", "status")["nodes"] if n["node"] == "node2")
    killed_at = time.monotonic()
    for component in node2["components"]:
        os.kill(component["pid"], signal.SIGKILL)
    noticed_s = await _until_inactive(two_nodes, "node2", killed_at, DEAD_NODE_NOTICED_S)
    assert noticed_s < DEAD_NODE_NOTICED_S, f"Kamailio marked node2 inactive only after {noticed_s:.1f} s"

    # New calls all go to node 1; one of them (a key every 3.5 s keeps the line check asking for ~20 s)
    # lasts while node 2 is brought back, and must not notice.
    survivor = "5557500"
    slow_keys = CallerScript(number="199", caller_id=survivor, digits="12345#", pauses_ms=(3500,) * 6,
                             timeout_s=60)  # fmt: skip
    survivor_call = asyncio.create_task(two_nodes.lab.call(slow_keys))
    new_callers = [f"55573{i:02d}" for i in range(4)]
    new = await asyncio.gather(
        *(two_nodes.lab.call(CallerScript(number="199", caller_id=c, digits="7#", timeout_s=30))
          for c in new_callers)
    )  # fmt: skip
    assert all(r.ok for r in new), [r.describe() for r in new]
    new_rows = await two_nodes.rows_for([*new_callers, survivor])
    assert {row["node"] for row in new_rows.values()} == {"node1"}, new_rows

    # Node 1 releases what node 2 held once its lease expired: the agent's call ends (wrap-up, then
    # ready: free for node 1's callers), the waiting caller is abandoned, node 2's call rows closed.
    released_s = await _until_released(two_nodes, acd_on_node2, killed_at)
    assert released_s < DEAD_NODE_RELEASED_S, f"node2 released only after {released_s:.1f} s"
    freed = _acd_agent(two_nodes, "1002")
    assert freed["state"] in ("wrap_up", "ready"), freed
    assert freed["node"] is None
    held = [acd_on_node2.talker, acd_on_node2.holder]
    await until(lambda: {r["disposition"] for r in two_nodes.calls_of(held).values()} == {"node_lost"}, 10,
                f"node2's call rows closed node_lost: {two_nodes.calls_of(held)}")

    # Back: node-up restarts node 2 on its ports and returns once Kamailio routes calls to it again.
    restarted = await asyncio.to_thread(
        two_nodes.lab.ivr, "lab", "node-up", "2", "--timeout", "60", extra_env=two_nodes.env
    )
    assert restarted.returncode == 0, restarted.stdout
    assert "kamailio: routes new calls to node2" in restarted.stdout
    assert two_nodes.view()["node2"].state is NodeState.ACTIVE
    assert not survivor_call.done(), "the survivor call ended before node 2 was back: nothing was shown"
    again = [f"55574{i:02d}" for i in range(4)]
    results = await asyncio.gather(
        *(two_nodes.lab.call(CallerScript(number="199", caller_id=c, digits="9#", timeout_s=30))
          for c in again)
    )  # fmt: skip
    assert all(r.ok for r in results), [r.describe() for r in results]
    assert {row["node"] for row in (await two_nodes.rows_for(again)).values()} == {"node1", "node2"}

    finished: dict[str, SippResult] = dict(zip(long_callers, await asyncio.gather(*long_calls), strict=True))
    untouched = [finished[c] for c in on_node1] + [await survivor_call]
    assert all(r.ok and r.hangup_by == HangupBy.FAR_END for r in untouched), [r.describe() for r in untouched]
    heard = {before[c]["id"]: "42" for c in on_node1} | {new_rows[survivor]["id"]: "12345"}
    assert two_nodes.read_back(list(heard)) == heard


def test_down_stops_kamailio_and_every_node(two_nodes: TwoNodes, tmp_path: Path) -> None:
    shown = two_nodes.ivr_json("lab", "status")
    pids = [(shown["kamailio"]["pid"], str(two_nodes.kamailio.config))]
    for node in shown["nodes"]:
        pids += [(c["pid"], "") for c in node["components"]]
    stopped = two_nodes.lab.ivr("lab", "down", extra_env=two_nodes.env)
    assert stopped.returncode == 0, stopped.stdout
    assert "kamailio stopped" in stopped.stdout
    for node in ("node1", "node2"):
        assert f"{node}: ivr serve stopped" in stopped.stdout
        assert f"{node}: asterisk stopped" in stopped.stdout
    assert not any(pid_alive(pid, marker) for pid, marker in pids)
    assert not two_nodes.lab.paths.topology_file.exists()
    after = two_nodes.ivr_json("lab", "status")
    assert after["running"] is False
    assert "nodes" not in after  # a single-node lab's status again
