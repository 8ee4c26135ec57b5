"""Lab controller logic that needs no Asterisk: status, refusal messages, pid identity."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from ivr_engine.config import Settings
from ivr_engine.lab import AsteriskMissing, LabPaths, PortInUse, control
from ivr_engine.lab.control import Component, ComponentState, LabStatus
from ivr_engine.lab.probe import ari_status, pid_alive


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path / "lab", ari_password="pw")


def test_status_of_a_fresh_folder_shows_nothing_running(settings: Settings) -> None:
    result = control.status(settings)
    assert not result.running
    assert [c.component for c in result.components] == [Component.ASTERISK, Component.SERVE]


def test_down_with_nothing_started_stops_nothing(settings: Settings) -> None:
    lines: list[str] = []
    assert control.down(settings, echo=lines.append) == []
    assert "nothing of this lab runs" in lines[0]


def test_stale_pid_file_is_not_trusted(settings: Settings) -> None:
    paths = LabPaths.for_state_dir(settings.state_dir)
    paths.run.mkdir(parents=True)
    paths.pid_file(Component.ASTERISK).write_text(f"{os.getpid()}\n")  # alive, but not this lab's asterisk
    assert not control.status(settings).state_of(Component.ASTERISK).running
    assert control.down(settings, echo=lambda _: None) == []


def test_pid_alive_checks_the_command_line() -> None:
    assert pid_alive(os.getpid(), "python")
    assert not pid_alive(os.getpid(), "/no/such/lab/asterisk.conf")


def test_table_is_aligned(tmp_path: Path) -> None:
    table = LabStatus(
        paths=LabPaths(tmp_path),
        components=(
            ComponentState(Component.ASTERISK, 4242, True, "ARI answers"),
            ComponentState(Component.SERVE, None, False, "not running"),
        ),
    ).table()
    rows = table.splitlines()[:3]
    assert [row.index(row.split()[3]) for row in rows] == [rows[0].index("DETAIL")] * 3
    assert "4242" in rows[1]
    assert "stopped" in rows[2]
    assert str(LabPaths(tmp_path).full_log) in table


def test_up_without_asterisk_says_run_install(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control.shutil, "which", lambda _: None)
    with pytest.raises(AsteriskMissing, match="run sip-lab/install"):
        control.up(settings, serve=False, echo=lambda _: None)


def test_up_refuses_taken_sip_port(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "_check_installed", lambda: "/usr/sbin/asterisk")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        taken = Settings(state_dir=settings.state_dir, sip_port=port, ari_password="pw")
        with pytest.raises(PortInUse, match=f"SIP 127.0.0.1:{port}/udp.* already taken"):
            control.up(taken, serve=False, echo=lambda _: None)


def test_serve_command_names_the_lab_settings_and_its_log_file(tmp_path: Path) -> None:
    cmd = control.serve_command(tmp_path / "lab-settings.yaml", tmp_path, tmp_path / "log" / "serve.log")
    assert cmd[-7:] == [
        "--config",
        str(tmp_path / "lab-settings.yaml"),
        "--state-dir",
        str(tmp_path),
        "serve",
        "--log-file",
        str(tmp_path / "log" / "serve.log"),
    ]


@pytest.mark.parametrize(
    "reply", [b"", b"not http at all\r\n\r\n", b"HTTP/1.1 200 OK\r\n" + b"X: " + b"y" * 70000 + b"\r\n\r\n"]
)
def test_ari_status_is_none_while_asterisk_answers_nothing_usable(reply: bytes) -> None:
    """During Asterisk's start-up its HTTP server may close or garble a reply: "not ready", not a crash."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        settings = Settings(ari_host="127.0.0.1", ari_port=server.getsockname()[1], ari_password="x")

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(reply)

        thread = threading.Thread(target=answer)
        thread.start()
        try:
            assert ari_status(settings, "/asterisk/info") is None
        finally:
            thread.join(5)


def test_the_lab_settings_anchor_the_shifted_clock_once_so_restarts_keep_the_timeline(tmp_path: Path) -> None:
    import yaml

    paths = LabPaths.for_state_dir(tmp_path)
    paths.root.mkdir(parents=True, exist_ok=True)
    shifted = Settings(state_dir=tmp_path, clock_start="2026-12-07T09:00:00-05:00")
    control._write_settings_file(shifted, paths)
    anchor = yaml.safe_load(paths.settings_file.read_text())["clock_anchor"]
    assert anchor
    control._write_settings_file(shifted, paths)  # `ivr serve` restarted: same start, same anchor
    assert yaml.safe_load(paths.settings_file.read_text())["clock_anchor"] == anchor
    moved = Settings(state_dir=tmp_path, clock_start="2026-12-08T09:00:00-05:00")
    control._write_settings_file(moved, paths)  # a new start is a new timeline
    assert yaml.safe_load(paths.settings_file.read_text())["clock_anchor"] != anchor
    control._write_settings_file(Settings(state_dir=tmp_path), paths)  # wall time: no anchor at all
    assert not yaml.safe_load(paths.settings_file.read_text())["clock_anchor"]
