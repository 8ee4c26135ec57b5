"""``ivr agent`` and ``ivr queue`` through CliRunner against a control app served on a real loopback port."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from aiohttp import web
from click.testing import CliRunner, Result

from cli import main
from ivr_engine.control import TOKEN_ENV, make_control_app
from ivr_engine.screenpop import ScreenPopService
from ivr_engine.storage import Database
from tests.acd_control_fakes import EPOCH, FakeControl, alice_pop

from .control_fakes import TOKEN

T = TypeVar("T")


class LiveService:
    """The control app on 127.0.0.1:<free port>, run by its own event loop in a thread."""

    def __init__(self, tmp_path: Path) -> None:
        self.fake = FakeControl()
        self.database = Database(f"sqlite:///{tmp_path / 'unused.db'}")
        self.screenpops = ScreenPopService(self.database)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner = web.AppRunner(
            make_control_app(self.fake, self.screenpops, TOKEN, clock=lambda: self.fake.now),
            shutdown_timeout=0.5,
        )
        self.port = self.run(self._start())

    async def _start(self) -> int:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return int(self.runner.addresses[0][1])

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(10)

    def close(self) -> None:
        self.run(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
        self.database.dispose()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveService]:
    service = LiveService(tmp_path)
    yield service
    service.close()


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    state = tmp_path / "state"
    state.mkdir()
    (state / "secrets.yaml").write_text(yaml.safe_dump({"control_token": TOKEN}))
    return state


def ivr(state_dir: Path, port: int, *args: str) -> Result:
    return CliRunner().invoke(main, ["--state-dir", str(state_dir), *args], env={"IVR_HTTP_PORT": str(port)})


def test_agent_login_and_pause(live: LiveService, state_dir: Path) -> None:
    result = ivr(state_dir, live.port, "agent", "login", "1001")
    assert result.exit_code == 0, result.output
    assert result.output == "agent 1001 (Ann Lee): ready\n"

    result = ivr(state_dir, live.port, "agent", "pause", "1001", "--reason", "lunch")
    assert result.exit_code == 0, result.output
    assert result.output == "agent 1001 (Ann Lee): paused (lunch)\n"
    assert live.fake.acd.agent("1001").state.value == "paused"

    result = ivr(state_dir, live.port, "agent", "ready", "1001")
    assert result.output == "agent 1001 (Ann Lee): ready\n"
    result = ivr(state_dir, live.port, "agent", "logout", "1001")
    assert result.output == "agent 1001 (Ann Lee): logged_out\n"


def test_refused_transition_is_one_clear_line(live: LiveService, state_dir: Path) -> None:
    result = ivr(state_dir, live.port, "agent", "ready", "1002")

    assert result.exit_code == 1
    assert result.output.startswith("Error: agent 1002: cannot go from logged_out to ready")
    assert result.output.count("\n") == 1
    assert "Traceback" not in result.output


def test_unknown_agent(live: LiveService, state_dir: Path) -> None:
    result = ivr(state_dir, live.port, "agent", "login", "7777")
    assert result.exit_code == 1
    assert result.output == "Error: unknown agent '7777'\n"


def test_agent_list_is_an_aligned_table(live: LiveService, state_dir: Path) -> None:
    live.run(live.fake.login("1002"))
    live.fake.now = EPOCH + 125

    result = ivr(state_dir, live.port, "agent", "list")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["AGENT", "NAME", "STATE", "FOR", "CALLS", "CALL", "SKILLS"]
    assert lines[2].split()[:5] == ["1001", "Ann", "Lee", "logged_out", "-"]
    assert "ready" in lines[3]
    assert "2m05s" in lines[3]
    state_col = lines[0].index("STATE")
    assert lines[2][state_col:].startswith("logged_out")
    assert lines[3][state_col:].startswith("ready")
    assert lines[3].endswith("general 5, orders 9")


def test_queue_status(live: LiveService, state_dir: Path) -> None:
    live.fake.acd.enqueue("c-1", "15550001002", "general", EPOCH)
    live.fake.acd.enqueue("c-2", "15550001001", "general", EPOCH + 5, vip=True)
    live.fake.now = EPOCH + 65

    result = ivr(state_dir, live.port, "queue", "status")

    assert result.exit_code == 0, result.output
    assert "queue general: 2 waiting, longest wait 1m05s" in result.output
    rows = [line.split() for line in result.output.splitlines() if "c-" in line]
    assert rows == [
        ["1", "c-2", "15550001001", "0", "yes", "1m00s"],
        ["2", "c-1", "15550001002", "0", "1m05s"],
    ]
    assert "queue billing: 0 waiting" in result.output


def test_queue_status_watch_refreshes(live: LiveService, state_dir: Path) -> None:
    result = ivr(state_dir, live.port, "queue", "status", "--watch", "--interval", "0.2", "--count", "2")

    assert result.exit_code == 0, result.output
    assert result.output.count("queue general:") == 2
    assert re.search(r"\d\d:\d\d:\d\d  every 0.2s", result.output)


def test_agent_list_json(live: LiveService, state_dir: Path) -> None:
    live.run(live.fake.login("1002"))
    live.fake.now = EPOCH + 125

    result = ivr(state_dir, live.port, "agent", "list", "--json")

    assert result.exit_code == 0, result.output
    agents = json.loads(result.output)
    assert [(a["id"], a["name"], a["state"], a["in_state"]) for a in agents] == [
        ("1001", "Ann Lee", "logged_out", None),
        ("1002", "Raj Patel", "ready", 125.0),
    ]
    assert agents[1]["skills"] == {"general": 5, "orders": 9}


def test_queue_status_json_once_and_watched(live: LiveService, state_dir: Path) -> None:
    live.fake.acd.enqueue("c-1", "15550001002", "general", EPOCH)
    live.fake.now = EPOCH + 65

    result = ivr(state_dir, live.port, "queue", "status", "--json")

    assert result.exit_code == 0, result.output
    queues = {q["name"]: q for q in json.loads(result.output)}
    assert queues["general"]["longest_wait"] == 65.0
    assert [(w["call_id"], w["position"], w["waited"]) for w in queues["general"]["waiting"]] == [
        ("c-1", 1, 65.0)
    ]
    assert queues["billing"]["waiting"] == []

    watched = ivr(state_dir, live.port, "queue", "status", "--watch", "--json", "--interval", "0.2",
                  "--count", "2")  # fmt: skip
    assert watched.exit_code == 0, watched.output
    lines = watched.output.splitlines()
    assert len(lines) == 2
    assert all({q["name"] for q in json.loads(line)} == {"general", "billing"} for line in lines)


def test_agent_watch_prints_screen_pops(live: LiveService, state_dir: Path) -> None:
    async def publish_when_watched() -> None:
        for _ in range(500):
            if live.screenpops.subscriber_count("1001"):
                break
            await asyncio.sleep(0.01)
        live.screenpops.publish(alice_pop("1001", "call-77"))

    asyncio.run_coroutine_threadsafe(publish_when_watched(), live.loop)
    result = ivr(state_dir, live.port, "agent", "watch", "1001", "--count", "1")

    assert result.exit_code == 0, result.output
    assert "watching agent 1001 (Ann Lee)" in result.output
    assert "call call-77" in result.output
    assert "Customer: Alice Chen (#1)  VIP (level 2)" in result.output
    assert "main/ask_pin (gather)  input ****  -> found" in result.output


def test_service_not_running(state_dir: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = ivr(state_dir, port, "agent", "list")

    assert result.exit_code == 1
    assert result.output == (
        f"Error: the ivr service is not running at http://127.0.0.1:{port} (start it with `ivr serve`)\n"
    )


def test_wrong_token_names_the_likely_cause(live: LiveService, state_dir: Path) -> None:
    (state_dir / "secrets.yaml").write_text(yaml.safe_dump({"control_token": "not-the-one"}))

    result = ivr(state_dir, live.port, "queue", "status")

    assert result.exit_code == 1
    assert "wrong bearer token" in result.output
    assert "--state-dir" in result.output
