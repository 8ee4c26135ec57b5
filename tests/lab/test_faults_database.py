"""Fault: the database goes away while the lab serves calls (PostgreSQL behind a TCP relay we cut).

A caller who reaches a lookup hears the spoken fallback and is put through to an agent; the service
keeps running; the call's node log waits in the write-behind queue (and its journal) and is written
once the database is back, even when the service was killed with SIGKILL meanwhile. Its own lab on its
own PostgreSQL schema. The tests take ``make_lab`` last: fixtures end in the reverse order, so the lab is
down before the relay is cut and the schema dropped (a running service's transaction could deadlock with
the DROP SCHEMA).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy.engine import make_url

from ivr_engine.lab.control import Component
from ivr_engine.lab.probe import pid_alive
from ivr_engine.lab.sipp import CallerScript
from tests.tcp_proxy import TcpProxy, through

from .conftest import Lab, until

pytestmark = [pytest.mark.lab, pytest.mark.postgres]


@pytest.fixture
async def relay(postgres_url: str) -> AsyncIterator[TcpProxy]:
    target = make_url(postgres_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.cut()


def _stored_calls(lab: Lab, env: dict[str, str], caller: str) -> list[dict[str, object]]:
    """``ivr calls list --json`` rows from ``caller`` ([] while the database cannot be read)."""
    done = lab.ivr("calls", "list", "--json", extra_env=env)
    if done.returncode != 0:
        return []
    return [c for c in json.loads(done.stdout) if c["caller"] == caller]


async def test_database_gone_callers_hear_fallback_get_an_agent_and_node_log_is_written_later(
    postgres_url: str, relay: TcpProxy, make_lab: Callable[[], Lab]
) -> None:
    lab = make_lab()
    direct = {"IVR_DATABASE_URL": postgres_url}
    for step in (("db", "init"), ("db", "seed")):
        done = lab.ivr(*step, extra_env=direct)
        assert done.returncode == 0, done.stdout
    # The relay runs on this event loop: every blocking `ivr` call through it goes to a thread.
    up = await asyncio.to_thread(
        lab.ivr, "lab", "up", "--timeout", "60", extra_env={"IVR_DATABASE_URL": through(relay, postgres_url)}
    )
    assert up.returncode == 0, up.stdout

    await relay.cut()
    result = await lab.call(
        CallerScript(number="101", caller_id="5550333", digits="100200#4321#", initial_wait_ms=2500,
                     hangup_after_s=25, timeout_s=60)
    )  # fmt: skip
    assert result.ok, result.describe()
    serve_pid = int(lab.paths.pid_file(Component.SERVE).read_text())
    assert pid_alive(serve_pid, str(lab.paths.settings_file)), "ivr serve crashed during the outage"

    await relay.start()  # the database is back on the same address

    def stored_calls() -> list[dict[str, object]]:
        return _stored_calls(lab, direct, "5550333")

    await until(lambda: any(c["ended"] for c in stored_calls()), 30, "the queued call log is written")
    call_id = str(stored_calls()[0]["call_id"])
    shown = json.loads(lab.ivr("calls", "show", call_id, "--json", extra_env=direct).stdout)
    steps = [(s["flow"], s["node"], s["outcome"]) for s in shown["path"]]
    assert ("balance", "check_account", "error") in steps, steps
    assert ("balance", "records_unavailable", "next") in steps, steps  # the fallback played to its end
    assert any(flow == "agent" and node.startswith("to_") for flow, node, _ in steps), steps  # an agent
    await until(lambda: lab.ari_json("/channels") == [], 10, "no channel is left")


async def test_service_killed_during_the_outage_keeps_the_node_log_in_its_journal_and_stores_it_after_restart(
    postgres_url: str, relay: TcpProxy, make_lab: Callable[[], Lab]
) -> None:
    lab = make_lab()
    direct = {"IVR_DATABASE_URL": postgres_url}
    relayed = {"IVR_DATABASE_URL": through(relay, postgres_url)}
    done = lab.ivr("db", "init", extra_env=direct)
    assert done.returncode == 0, done.stdout
    up = await asyncio.to_thread(lab.ivr, "lab", "up", "--timeout", "60", extra_env=relayed)
    assert up.returncode == 0, up.stdout

    await relay.cut()
    result = await lab.call(CallerScript(number="199", caller_id="5550334", digits="4211#", timeout_s=60))
    assert result.ok, result.describe()
    spool = lab.settings.state_dir / "spool"

    def end_journalled() -> bool:  # the caller's BYE is processed a moment after SIPp is done
        return any('"CallEnded"' in path.read_text() for path in spool.glob("writes-*.jsonl"))

    await until(end_journalled, 10, "the call's end to be journalled")
    os.kill(int(lab.paths.pid_file(Component.SERVE).read_text()), signal.SIGKILL)  # no clean stop
    down = await asyncio.to_thread(lab.ivr, "lab", "down", extra_env=relayed)  # still no database
    assert down.returncode == 0, down.stdout
    spooled = list((lab.settings.state_dir / "spool").glob("writes-*.jsonl"))
    assert len(spooled) == 1, spooled
    assert '"call_id"' in spooled[0].read_text()  # every write was journalled as it was made

    await relay.start()
    up = await asyncio.to_thread(lab.ivr, "lab", "up", "--timeout", "60", extra_env=relayed)
    assert up.returncode == 0, up.stdout

    def stored_calls() -> list[dict[str, object]]:
        return _stored_calls(lab, direct, "5550334")

    await until(lambda: any(c["ended"] for c in stored_calls()), 30, "the spooled call log is written")
    (call,) = stored_calls()
    shown = json.loads(lab.ivr("calls", "show", str(call["call_id"]), "--json", extra_env=direct).stdout)
    steps = [(s["node"], s["outcome"]) for s in shown["path"]]
    assert steps == [("ask", "next"), ("read_back", "next"), ("bye", "next"), ("end", "completed")], steps
    assert shown["path"][0]["input"] == "4211"
    assert call["disposition"] == "completed", call
    await until(lambda: spooled[0].stat().st_size == 0, 10, "the journal is emptied once stored")
