"""`ivr lab up | status | down` against the real Asterisk: configs accepted, re-run safe, nothing left."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ivr_engine.lab import PortInUse, control
from ivr_engine.lab.control import Component
from ivr_engine.lab.probe import pid_alive

from .conftest import Lab

pytestmark = pytest.mark.lab


def _processes_naming(marker: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and pid_alive(int(proc.name), marker):
            pids.append(int(proc.name))
    return pids


def test_asterisk_accepts_rendered_configs(asterisk_only: Lab) -> None:
    endpoints = asterisk_only.asterisk_cli("pjsip show endpoints")
    for name in ("anonymous", "1001", "1002", "1003"):
        assert re.search(rf"Endpoint:\s+{name}\b", endpoints), endpoints
    info = asterisk_only.ari_json("/asterisk/info")
    assert info["system"]["version"].startswith("16.")
    errors = [line for line in asterisk_only.paths.full_log.read_text().splitlines() if " ERROR[" in line]
    assert errors == []


def test_dialplan_routes_service_numbers_to_stasis(asterisk_only: Lab) -> None:
    dialplan = asterisk_only.asterisk_cli("dialplan show ivr-inbound")
    for number in asterisk_only.settings.service_numbers:
        assert re.search(rf"'{number}' =>\s+1\. Stasis\(ivr-engine,{number}\)", dialplan), dialplan


def test_up_again_is_safe(asterisk_only: Lab) -> None:
    pid_file = asterisk_only.paths.pid_file(Component.ASTERISK)
    before = pid_file.read_text().strip()
    again = asterisk_only.ivr("lab", "up", "--no-serve")
    assert again.returncode == 0, again.stdout
    assert f"asterisk already running (pid {before})" in again.stdout
    assert pid_file.read_text().strip() == before


def test_status_shows_what_runs(asterisk_only: Lab) -> None:
    shown = asterisk_only.ivr("lab", "status")
    assert shown.returncode == 0, shown.stdout
    assert re.search(r"^asterisk\s+running\s+\d+\s+ARI .* answers$", shown.stdout, re.M), shown.stdout
    assert re.search(r"^serve\s+stopped\s+-\s+not running$", shown.stdout, re.M), shown.stdout
    assert str(asterisk_only.paths.full_log) in shown.stdout


def test_up_refuses_ports_of_another_lab(asterisk_only: Lab, make_lab: Callable[[], Lab]) -> None:
    intruder = make_lab()
    clash_env = {"IVR_SIP_PORT": str(asterisk_only.settings.sip_port)}
    clash = intruder.ivr("lab", "up", "--no-serve", extra_env=clash_env)
    assert clash.returncode != 0
    assert f"SIP 127.0.0.1:{asterisk_only.settings.sip_port}/udp" in clash.stdout
    assert "already taken by another process" in clash.stdout
    assert "Traceback" not in clash.stdout


def test_down_stops_exactly_what_up_started(make_lab: Callable[[], Lab]) -> None:
    lab = make_lab()
    started = lab.ivr("lab", "up", "--no-serve")
    assert started.returncode == 0, started.stdout
    marker = str(lab.paths.asterisk_conf)
    running = _processes_naming(marker)
    assert len(running) == 1

    stopped = lab.ivr("lab", "down")
    assert stopped.returncode == 0, stopped.stdout
    assert f"asterisk stopped (pid {running[0]})" in stopped.stdout
    assert _processes_naming(marker) == []
    assert not lab.paths.pid_file(Component.ASTERISK).exists()
    status = lab.ivr("lab", "status")
    assert re.search(r"^asterisk\s+stopped", status.stdout, re.M)
    assert "nothing of this lab runs" in lab.ivr("lab", "down").stdout


def test_ari_port_taken_after_the_check_is_reported_and_asterisk_stopped(
    make_lab: Callable[[], Lab], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the port check cannot see: a process binds the ARI port just before Asterisk does.
    Asterisk would run on without ARI; ``up`` must say so at once, and leave no Asterisk behind."""
    lab = make_lab()
    monkeypatch.setattr(control, "_check_ports", lambda settings: None)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind((lab.settings.ari_host, lab.settings.ari_port))
        squatter.listen()
        started = time.monotonic()
        with pytest.raises(PortInUse, match=rf"could not bind ARI \(127\.0\.0\.1:{lab.settings.ari_port}: "):
            control.up(lab.settings, serve=False, timeout_s=60, echo=lambda _: None)
        assert time.monotonic() - started < 30
    assert _processes_naming(str(lab.paths.asterisk_conf)) == []
    assert not control.status(lab.settings).running
