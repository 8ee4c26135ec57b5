"""Fixtures: the control app with the web routes over a fake ACD and a migrated SQLite database,
served on loopback, users in a temporary state folder, and Debian's Chromium driven by Playwright.

The browser fixture skips when Chromium or Playwright is missing, and fails under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from acd import AgentState
from acd.live.controls import CallControls
from acd.live.inflight import Leg
from acd.live.monitor import MonitorError, MonitorMode, MonitorSession
from acd.live.worker import EngineWorker
from ivr_engine.clock import CentreTime
from ivr_engine.control import make_control_app
from ivr_engine.screenpop import ScreenPopService
from ivr_engine.storage import Database
from ivr_engine.storage.migrate import upgrade
from ivr_engine.web import Role, UserFile, WebUser, add_web_routes
from ivr_engine.web.call_controls import add_call_control_routes
from ivr_engine.web.monitor import add_monitor_route
from ivr_engine.web.recordings import add_recording_routes
from ivr_engine.web.throttle import LoginThrottle
from ivr_engine.web.voicemail import add_voicemail_routes
from ivr_engine.web.work_orders import add_work_order_routes
from ivr_engine.workorders.policy import DEFAULT_POLICY
from ivr_engine.workorders.screenpop import open_work_orders
from tests.acd_control_fakes import FakeControl

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def browser_env() -> dict[str, str]:
    """The browser is the user's machine, not ours: it never runs under the suite's shifted clock
    (``tests/any_day.py`` preloads faketime into the processes of the service under test)."""
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}


PASSWORDS = {"ann": "ann-secret-1", "raj": "raj-secret-2", "boss": "boss-secret-3"}


@dataclass
class ManualClock:
    """Monotonic seconds that move only when the test says so (the sign-in throttle's clock)."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeAri:
    """The ARI calls the call controls make, recorded: ``(method, args...)``."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        async def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, *args, *kwargs.values()))

        return record


class FakeMonitor:
    """The ACD's listen-in: a session for an agent the fake ACD has on a call, else ``MonitorError``
    as the live one says; ``started`` records ``"agent endpoint mode"``."""

    def __init__(self, control: FakeControl) -> None:
        self.control = control
        self.started: list[str] = []

    async def __call__(self, agent_id: str, supervisor: str, mode: MonitorMode) -> MonitorSession:
        if self.control.state(agent_id) is not AgentState.ON_CALL:
            raise MonitorError(f"agent {agent_id} is not on a call answered on this node")
        self.started.append(f"{agent_id} {supervisor} {mode.value}")
        leg = Leg(f"agent-{agent_id}", agent_id, "call-1")
        return MonitorSession(f"m{len(self.started)}", agent_id, "call-1", supervisor, mode, leg,
                              asyncio.Event())


@dataclass
class Desk:
    client: TestClient
    control: FakeControl
    screenpops: ScreenPopService
    database: Database
    users: UserFile
    throttle_clock: ManualClock
    recordings: Path
    """The folder the voicemail audio is served from."""
    call_recordings: Path
    """The folder call recordings are served from."""
    calls: CallControls
    """The call controls, over the desk's engine and ``ari``."""
    ari: FakeAri
    monitor: FakeMonitor
    """The listen-in behind ``POST /web/agents/{id}/monitor``."""

    @property
    def now(self) -> datetime:
        """The desk's (injected) clock: facts stamped with it count as "today" on the wallboard."""
        return datetime.fromtimestamp(self.control.now, UTC)

    @property
    def base(self) -> str:
        return str(self.client.make_url("")).rstrip("/")

    @property
    def port(self) -> int:
        assert self.client.port is not None
        return self.client.port

    async def sign_in(self, name: str) -> None:
        response = await self.client.post(
            "/login", json={"username": name, "password": PASSWORDS[name]}, headers={"Origin": self.base}
        )
        assert response.status == 200, await response.text()

    async def post(self, path: str, body: Any) -> Any:
        return await self.client.post(path, json=body, headers={"Origin": self.base})


DESK_NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
"""The desk's clock: 22:00 on Friday 4 December in New York, already the 5th in UTC, so a wallboard
that took the UTC day for "today" would lose the evening's figures."""
DESK_ZONE = "America/New_York"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'ivr.db'}")
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def users(tmp_path: Path) -> UserFile:
    store = UserFile.in_state_dir(tmp_path / "state")
    store.add(WebUser("ann", Role.AGENT, "1001"), PASSWORDS["ann"])
    store.add(WebUser("raj", Role.AGENT, "1002"), PASSWORDS["raj"])
    store.add(WebUser("boss", Role.SUPERVISOR), PASSWORDS["boss"])
    return store


@pytest.fixture
async def desk(database: Database, users: UserFile, tmp_path: Path) -> AsyncIterator[Desk]:
    control = FakeControl(DESK_NOW.timestamp())
    screenpops = ScreenPopService(database, work_orders=open_work_orders)
    clock = ManualClock()
    app = make_control_app(control, screenpops, "unused-token", clock=lambda: control.now, keepalive=0.2)
    add_web_routes(
        app,
        database=database,
        users=users,
        survey_poll_s=0.1,
        refresh_s=0.5,
        keepalive_s=0.2,
        centre=CentreTime.named(DESK_ZONE),
        throttle=LoginThrottle(clock=clock),
    )
    ari = FakeAri()
    worker = EngineWorker(control.acd, lambda applied: None, lambda: control.now)
    calls = CallControls(worker, ari, clock=lambda: control.now)  # type: ignore[arg-type]
    add_call_control_routes(app, calls)
    add_work_order_routes(app, DEFAULT_POLICY)
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    add_voicemail_routes(app, recordings)
    call_recordings = tmp_path / "call-recordings"
    call_recordings.mkdir()
    add_recording_routes(app, call_recordings)
    monitor = FakeMonitor(control)
    add_monitor_route(app, monitor, users)
    try:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            yield Desk(
                client, control, screenpops, database, users, clock, recordings, call_recordings, calls, ari,
                monitor,
            )
    finally:
        worker.close()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


EXPECT_TIMEOUT_MS = 15_000


@pytest.fixture
async def browser(desk: Desk) -> AsyncIterator[Any]:
    """Headless Debian Chromium (never a downloaded browser); closed before the server, whose open
    event streams would otherwise hold its shutdown."""
    missing = ""
    if not shutil.which(CHROMIUM):
        missing = f"{CHROMIUM} is not installed (apt-get install chromium; sip-lab/install does it)"
    try:
        from playwright.async_api import async_playwright, expect

        # A loaded 2-core box can take seconds to open a page's event stream: waits get 15 s (a broken
        # page still fails, only later).
        expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    except ImportError:
        missing = missing or "Python playwright is not installed (pip install -e '.[dev]')"
    if missing:
        if _in_ci():
            pytest.fail(f"{missing} (CI=true: browser tests must not skip)")
        pytest.skip(missing)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=browser_env()
        )
        try:
            yield chromium
        finally:
            await chromium.close()
