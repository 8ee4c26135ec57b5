"""Helpers for the ACD across two lab nodes (tests/lab/test_multinode.py): calling one node directly,
agent phones every node can ring, and the centre as the CLI shows it (through node 1's control API)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import aiohttp
from sqlalchemy import create_engine, text

from ivr_engine.lab.agent_phone import AgentBehaviour, AgentPhone, start_agent_phone
from ivr_engine.lab.render import agent_phones
from ivr_engine.lab.sipp import CallerScript, SippResult, run_caller

from ..sse import Heard, sse_events
from .conftest import IVR, Lab, until

QUEUE_LINE = "100"
"""The main line: pressing 0 after the welcome queues the caller for ``general``."""


def queue_caller(caller_id: str, *, wait_ms: int = 9000, timeout_s: float = 90) -> CallerScript:
    """Presses 0 ``wait_ms`` after the answer (the welcome is over), then holds until ``timeout_s`` - 10."""
    return CallerScript(number=QUEUE_LINE, caller_id=caller_id, digits="0", initial_wait_ms=wait_ms,
                        hangup_after_s=timeout_s - 10, timeout_s=timeout_s)


_NODES: dict[tuple[str, str], dict[str, Any]] = {}
"""``ivr lab status`` per (lab, node), read once: a node keeps its ports across ``node-up``."""


def node_info(lab: Lab, env: dict[str, str], node: str) -> dict[str, Any]:
    key = (str(lab.settings.state_dir), node)
    if key not in _NODES:
        done = lab.ivr("lab", "status", "--json", extra_env=env)
        assert done.returncode == 0, done.stdout
        for shown in json.loads(done.stdout)["nodes"]:
            _NODES[(key[0], shown["node"])] = shown
    return _NODES[key]


async def call_node(lab: Lab, env: dict[str, str], node: str, script: CallerScript) -> SippResult:
    """A SIPp caller dialling ``node``'s Asterisk directly (not through Kamailio)."""
    port = int(str(node_info(lab, env, node)["sip"]).rsplit(":", 1)[1])
    return await run_caller(replace(lab.settings, sip_port=port), script)


def _online(lab: Lab, ari_url: str, agent_id: str) -> bool:
    token = base64.b64encode(":".join(lab.ari_credentials).encode()).decode()
    request = urllib.request.Request(f"{ari_url}/endpoints/PJSIP/{agent_id}",
                                     headers={"Authorization": f"Basic {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return bool(json.loads(response.read())["state"] == "online")


def bridged(lab: Lab, env: dict[str, str], node: str, call_id: str) -> int:
    """How many channels ``node``'s Asterisk has in the call's ACD bridge (0: no such bridge yet)."""
    token = base64.b64encode(":".join(lab.ari_credentials).encode()).decode()
    url = f"{node_info(lab, env, node)['ari_url']}/bridges/acd-{call_id}"
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return len(json.loads(response.read())["channels"])
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return 0
        raise


@asynccontextmanager
async def agent_phone(
    lab: Lab, env: dict[str, str], agent_id: str, behaviour: AgentBehaviour
) -> AsyncIterator[AgentPhone]:
    """Agent ``agent_id``'s SIPp phone, online on every node's Asterisk before the test goes on."""
    port = next(a.port for a in agent_phones(lab.settings) if a.id == agent_id)
    phone = await start_agent_phone(lab.settings, port, behaviour=behaviour)
    try:
        for node in ("node1", "node2"):
            ari_url = str(node_info(lab, env, node)["ari_url"])
            await until(functools.partial(_online, lab, ari_url, agent_id), 30, f"PJSIP/{agent_id} on {node}")
        yield phone
    finally:
        await phone.stop()


def node_ivr(lab: Lab, env: dict[str, str], node: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``ivr ARGS`` against ``node``'s service (its state folder, control token and web port)."""
    web_port = str(node_info(lab, env, node)["web"]).rsplit(":", 1)[1]
    root = lab.paths.node(int(node.removeprefix("node"))).root
    return subprocess.run(
        [*IVR, "--state-dir", str(root), *args],
        env={**lab.env(), **env, "IVR_HTTP_PORT": web_port}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=120, check=False,
    )  # fmt: skip


def cli_json(lab: Lab, env: dict[str, str], node: str, *args: str) -> Any:
    done = node_ivr(lab, env, node, *args, "--json")
    assert done.returncode == 0, done.stdout
    return json.loads(done.stdout)


def cli_ok(lab: Lab, env: dict[str, str], node: str, *args: str) -> None:
    done = node_ivr(lab, env, node, *args)
    assert done.returncode == 0, done.stdout


def agent_state(lab: Lab, env: dict[str, str], node: str, agent_id: str) -> dict[str, Any]:
    """Agent ``agent_id`` as ``ivr agent list`` against ``node`` shows it."""
    found: dict[str, Any] = next(a for a in cli_json(lab, env, node, "agent", "list") if a["id"] == agent_id)
    return found


def waiting_callers(lab: Lab, env: dict[str, str], node: str, queue: str = "general") -> list[str]:
    """The callers waiting in ``queue`` in service order, as ``ivr queue status`` against ``node`` shows."""
    shown = next(q for q in cli_json(lab, env, node, "queue", "status") if q["name"] == queue)
    return [w["caller"] for w in sorted(shown["waiting"], key=lambda w: w["position"])]


def rows(db_url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(text(sql), params).all()]
    finally:
        engine.dispose()


class SseLog:
    """Every event of a desk's event feed (``GET /web/agents/{id}/events``), read as it comes."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.events: list[Heard] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read(response), name="sse-log")

    async def _read(self, response: aiohttp.ClientResponse) -> None:
        async for event in sse_events(response):
            self.events.append(event)
            self._changed.set()

    async def until(self, matches: Callable[[Heard], bool], timeout_s: float = 20) -> Heard:
        """The first event so far (or to come within ``timeout_s``) that ``matches``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            for event in self.events:
                if matches(event):
                    return event
            if self._reader.done() or loop.time() > deadline:
                raise AssertionError(f"no such event on the feed; heard {[e[0] for e in self.events]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(0.0, deadline - loop.time()))

    async def close(self) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
