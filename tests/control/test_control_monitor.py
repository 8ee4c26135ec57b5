"""``POST /api/agents/{id}/monitor``: only a web user with the supervisor role may listen in; the phone
and the mode are checked before the ACD is asked; an agent not on a call is 409."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner, Result

from acd.live.inflight import Leg
from acd.live.monitor import MonitorError, MonitorMode, MonitorSession
from cli import main
from ivr_engine.control import TOKEN_ENV, make_control_app
from ivr_engine.screenpop import ScreenPopService
from ivr_engine.web import Role, UserFile, WebUser
from ivr_engine.web.monitor import add_monitor_route, endpoint_of
from tests.acd_control_fakes import FakeControl

from .control_fakes import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def monitored(
    screenpops: ScreenPopService, tmp_path: Path
) -> AsyncIterator[tuple[TestClient, list[str]]]:
    users = UserFile.in_state_dir(tmp_path / "state")
    users.add(WebUser("boss", Role.SUPERVISOR), "boss-secret-1")
    users.add(WebUser("ann", Role.AGENT, "1001"), "ann-secret-1")
    started: list[str] = []

    async def start(agent_id: str, supervisor: str, mode: MonitorMode) -> MonitorSession:
        if agent_id != "1002":
            raise MonitorError(f"agent {agent_id} is not on a call answered on this node")
        started.append(f"{agent_id} {supervisor} {mode.value}")
        leg = Leg("agent-x", agent_id, "call-1")
        return MonitorSession("s1", agent_id, "call-1", supervisor, mode, leg, asyncio.Event())

    fake = FakeControl()
    app = make_control_app(fake, screenpops, TOKEN, clock=lambda: fake.now)
    add_monitor_route(app, start, users)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client, started


async def test_a_supervisor_starts_a_session(monitored: tuple[TestClient, list[str]]) -> None:
    client, started = monitored
    body = {"supervisor": "1001", "mode": "whisper", "by": "boss"}
    response = await client.post("/api/agents/1002/monitor", json=body, headers=AUTH)
    assert response.status == 200, await response.text()
    assert await response.json() == {"id": "s1", "agent_id": "1002", "call_id": "call-1",
                                     "supervisor": "PJSIP/1001", "mode": "whisper"}
    assert started == ["1002 PJSIP/1001 whisper"]


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"supervisor": "1001", "mode": "listen", "by": "ann"}, 403, "ann is not a supervisor"),
    ({"supervisor": "1001", "mode": "listen", "by": "nobody"}, 403, "nobody is not a supervisor"),
    ({"supervisor": "1001", "mode": "listen"}, 400, '"by"'),
    ({"supervisor": "PJSIP/1001;x", "mode": "listen", "by": "boss"}, 400, '"supervisor"'),
    ({"supervisor": "1001", "mode": "shout", "by": "boss"}, 400, "mode must be one of listen, whisper"),
])
async def test_refusals(monitored: tuple[TestClient, list[str]], body: dict[str, str], status: int,
                        message: str) -> None:
    client, started = monitored
    response = await client.post("/api/agents/1002/monitor", json=body, headers=AUTH)
    assert response.status == status
    assert message in (await response.json())["error"]
    assert started == []


async def test_an_agent_not_on_a_call_is_a_conflict(monitored: tuple[TestClient, list[str]]) -> None:
    client, _ = monitored
    body = {"supervisor": "PJSIP/1003", "mode": "barge", "by": "boss"}
    response = await client.post("/api/agents/1001/monitor", json=body, headers=AUTH)
    assert response.status == 409
    assert "not on a call" in (await response.json())["error"]
    assert (await client.post("/api/agents/1002/monitor", json=body)).status == 401  # no token


def test_endpoint_of() -> None:
    assert endpoint_of("1001") == "PJSIP/1001"
    assert endpoint_of("PJSIP/desk-7") == "PJSIP/desk-7"
    assert endpoint_of("PJSIP/1001&PJSIP/1002") is None
    assert endpoint_of("") is None


async def test_ivr_agent_monitor_cli(monitored: tuple[TestClient, list[str]], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI against the route on a real loopback port (CliRunner in a thread: it runs its own loop)."""
    client, started = monitored
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    state = tmp_path / "cli-state"
    state.mkdir()
    (state / "secrets.yaml").write_text(yaml.safe_dump({"control_token": TOKEN}))

    def ivr(*args: str) -> Result:
        return CliRunner().invoke(main, ["--state-dir", str(state), "agent", "monitor", *args],
                                  env={"IVR_HTTP_PORT": str(client.port)})

    done = await asyncio.to_thread(ivr, "1002", "--supervisor", "1001", "--mode", "barge", "--by", "boss")
    assert done.exit_code == 0, done.output
    assert done.output == ("ringing PJSIP/1001 to barge on agent 1002's call call-1 (session s1); "
                           "hang up to stop\n")
    refused = await asyncio.to_thread(ivr, "1002", "--supervisor", "1001", "--by", "ann")
    assert refused.exit_code == 1
    assert "ann is not a supervisor" in refused.output
    assert started == ["1002 PJSIP/1001 barge"]
