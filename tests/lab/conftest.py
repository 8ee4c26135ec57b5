"""The real lab for tests: a private Asterisk (+ ``ivr serve``) on free loopback ports in a tmp folder.

``lab`` (session) runs ``ivr lab up`` with the service; ``make_lab`` makes labs a test starts itself
(e.g. with ``--no-serve``). Both are torn down with ``ivr lab down``. When Asterisk or SIPp is not
installed, lab tests skip with a reason, or fail under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ivr_engine.config import PROJECT_ROOT, Settings
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.nodes.hours import HoursNode, next_open
from ivr_engine.lab import LabPaths
from ivr_engine.lab.agent_phone import AgentPhone
from ivr_engine.lab.agent_phone import start_agent_phone as _start_agent_phone
from ivr_engine.lab.ports import port_env, private_lab_settings
from ivr_engine.lab.render import AGENT_IDS, agent_phones
from ivr_engine.lab.sipp import CallerScript, SippResult, run_caller

_SCRIPT = Path(sys.executable).with_name("ivr")
IVR = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "cli"]


_PLAYING = re.compile(r"> Playing '(?P<file>[^']+)'")
"""Asterisk's full-log line for a file it starts playing on a channel."""



def lab_clock_start(wall: datetime | None = None) -> str:
    """Where the labs' clock starts: the next moment (from the real date and hour, or ``wall``) when the
    shipped flows' business hours (``flows/agent.yaml``) are open with two hours to spare.

    The service and every report read that one clock, so a lab call made at 03:00 on a Saturday is
    stamped, counted on the wallboard and reported on the same (open) day.
    """
    library = FlowLibrary.from_paths([PROJECT_ROOT / "flows"])
    agent = library.get("agent")
    assert agent is not None, "flows/agent.yaml (the business hours) is missing"
    hours = next(node for node in agent.nodes.values() if isinstance(node, HoursNode))
    return next_open(hours, wall or datetime.now(UTC)).isoformat(timespec="seconds")


LAB_CLOCK_START = lab_clock_start()
"""Computed once per test session: inside the flows' business hours whatever day the suite runs."""
LAB_CLOCK_ANCHOR = datetime.now(UTC).isoformat()
"""The real time at which the labs' clock read LAB_CLOCK_START: every lab process (a restarted service,
another node, the CLI) reads one timeline."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_lab() -> None:
    """Skip (fail under CI=true) unless Asterisk and SIPp are installed."""
    missing = [tool for tool in ("asterisk", "sipp") if shutil.which(tool) is None]
    if missing:
        reason = f"{' and '.join(missing)} not installed: run sip-lab/install (as root)"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)



async def until(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll ``check`` 4 times a second until it gives a truthy value, and return it; fail after timeout_s."""
    for _ in range(int(timeout_s * 4)):
        value = check()
        if value:
            return value
        await asyncio.sleep(0.25)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")


@dataclass(frozen=True)
class Lab:
    """One private lab: its settings (ports, state folder, ARI credentials) and helpers to drive it."""

    settings: Settings

    @classmethod
    def create(cls, state_dir: Path) -> Lab:
        settings = private_lab_settings(state_dir, clock_start=LAB_CLOCK_START, clock_anchor=LAB_CLOCK_ANCHOR)
        return cls(settings=settings.with_secrets())

    @property
    def paths(self) -> LabPaths:
        return LabPaths.for_state_dir(self.settings.state_dir)

    @property
    def ari_url(self) -> str:
        return self.settings.ari_url

    @property
    def ari_credentials(self) -> tuple[str, str]:
        return self.settings.ari_user, self.settings.ari_password

    def env(self) -> dict[str, str]:
        """Environment that makes the ``ivr`` CLI use this lab's ports."""
        s = self.settings
        return {**os.environ, **port_env(s), "IVR_CLOCK_START": s.clock_start,
                "IVR_CLOCK_ANCHOR": s.clock_anchor}

    def ivr(
        self, *args: str, extra_env: dict[str, str] | None = None, timeout_s: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run ``ivr --state-dir <this lab> ARGS``; output in ``.stdout`` (stderr merged)."""
        return subprocess.run(
            [*IVR, "--state-dir", str(self.settings.state_dir), *args],
            env={**self.env(), **(extra_env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=timeout_s, check=False,
        )  # fmt: skip

    def asterisk_cli(self, command: str) -> str:
        done = subprocess.run(
            ["asterisk", "-C", str(self.paths.asterisk_conf), "-rx", command],
            capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
        return done.stdout

    def ari_json(self, path: str) -> Any:
        """``GET <ari_url><path>`` decoded; raises for HTTP errors."""
        token = base64.b64encode(":".join(self.ari_credentials).encode()).decode()
        request = urllib.request.Request(self.ari_url + path, headers={"Authorization": f"Basic {token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read() or b"null")

    def ari_delete(self, path: str) -> None:
        """``DELETE <ari_url><path>``; a 404 (already gone) is fine, other HTTP errors raise."""
        token = base64.b64encode(":".join(self.ari_credentials).encode()).decode()
        request = urllib.request.Request(
            self.ari_url + path, method="DELETE", headers={"Authorization": f"Basic {token}"})
        try:
            with urllib.request.urlopen(request, timeout=5):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise

    async def call(self, script: CallerScript) -> SippResult:
        return await run_caller(self.settings, script)

    async def agent_phone(self, agent_id: str = AGENT_IDS[0], ring_ms: int = 500) -> AgentPhone:
        """Start the answering phone of agent ``agent_id`` on the port its AOR contacts."""
        port = next(a.port for a in agent_phones(self.settings) if a.id == agent_id)
        return await _start_agent_phone(self.settings, port, ring_ms)

    async def leftovers(self, timeout_s: float = 15) -> tuple[list[Any], list[Any]]:
        """The channels and bridges Asterisk still holds after up to ``timeout_s`` to clear them."""
        channels: list[Any] = []
        bridges: list[Any] = []
        for _ in range(int(timeout_s * 4)):
            channels, bridges = self.ari_json("/channels"), self.ari_json("/bridges")
            if not channels and not bridges:
                break
            await asyncio.sleep(0.25)
        return channels, bridges

    def full_log_size(self) -> int:
        """Where Asterisk's full log ends now: pass it to ``played_since``."""
        return self.paths.full_log.stat().st_size

    def played_since(self, offset: int) -> list[Path]:
        """The sound files Asterisk played after ``offset`` of its full log, in order."""
        with self.paths.full_log.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        return [Path(m["file"]) for m in _PLAYING.finditer(text)]

    def events(self) -> list[dict[str, Any]]:
        """The service's event log (``<state>/events.jsonl``, written by ``ivr serve``)."""
        path = self.settings.state_dir / "events.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


_PORT_TAKEN = "could not bind ARI"
"""What ``ivr lab up`` says when another process took the ARI port between our check and Asterisk's bind."""


@contextlib.contextmanager
def serving_lab(
    lab: Lab, *steps: tuple[str, ...], env: dict[str, str] | None = None, nodes: int = 1
) -> Iterator[Lab]:
    """Run the ``ivr`` set-up ``steps`` (e.g. ``("db", "init")``), then ``ivr lab up`` (``--nodes``
    ``nodes``) with ``env``; ``ivr lab down`` on the way out. A failed step fails the test with its
    output. Should the ARI port be taken from under Asterisk, the lab moves to fresh ports (up to 3
    tries): use the lab it yields."""
    for step in steps:
        done = lab.ivr(*step, extra_env=env)
        if done.returncode != 0:
            pytest.fail(f"ivr {' '.join(step)} failed:\n{done.stdout}")
    for _ in range(3):
        started = lab.ivr("lab", "up", "--nodes", str(nodes), "--timeout", "60", extra_env=env)
        if started.returncode == 0 or _PORT_TAKEN not in started.stdout:
            break
        lab.ivr("lab", "down", extra_env=env)  # what did start (another node), and a multi-node plan
        lab = Lab.create(lab.settings.state_dir)
    try:
        if started.returncode != 0:
            pytest.fail(f"ivr lab up failed:\n{started.stdout}")
        yield lab
    finally:
        lab.ivr("lab", "down", extra_env=env)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab with Asterisk and ``ivr serve`` running on a seeded SQLite database, for the whole session."""
    require_lab()
    with serving_lab(Lab.create(tmp_path_factory.mktemp("lab")), ("db", "init"), ("db", "seed")) as lab:
        yield lab


@pytest.fixture
def make_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Lab]]:
    """Make labs (not started) on fresh ports and folders; each is brought down afterwards."""
    require_lab()
    made: list[Lab] = []

    def make() -> Lab:
        lab = Lab.create(tmp_path_factory.mktemp("bare"))
        made.append(lab)
        return lab

    yield make
    for lab in made:
        lab.ivr("lab", "down")


@pytest.fixture(scope="module")
def asterisk_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab with Asterisk alone (``--no-serve``), shared by one test module."""
    require_lab()
    lab = Lab.create(tmp_path_factory.mktemp("asterisk-only"))
    started = lab.ivr("lab", "up", "--no-serve")
    try:
        if started.returncode != 0:
            pytest.fail(f"ivr lab up --no-serve failed:\n{started.stdout}")
        yield lab
    finally:
        lab.ivr("lab", "down")


_SERVE_LINE = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+) ")
_LOG_TAIL_LINES = 15
_LOG_TROUBLE_LINES = 40


def serve_log_excerpt(lab: Lab) -> str:
    """The end of the lab's ``serve.log`` for a failure report: its last warnings and errors, then its
    last lines of any level (the suite's tmp folders rotate away, CI keeps only the output)."""
    try:
        lines = lab.paths.serve_log.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"(no serve.log: {exc})"
    levels = ("WARNING", "ERROR", "CRITICAL")
    trouble = [line for line in lines if (m := _SERVE_LINE.match(line)) is not None and m["level"] in levels]
    return "\n".join([f"-- last {_LOG_TROUBLE_LINES} warnings and errors --", *trouble[-_LOG_TROUBLE_LINES:],
                      f"-- last {_LOG_TAIL_LINES} lines --", *lines[-_LOG_TAIL_LINES:]])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed lab test's report ends with the excerpt of its lab's ``serve.log``."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when != "call" or not report.failed:
        return
    labs = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, Lab)]
    for found in labs:
        report.sections.append((f"serve.log of {found.settings.state_dir}", serve_log_excerpt(found)))
