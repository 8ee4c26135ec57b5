"""``ivr lab up | down | status``: run Asterisk and ``ivr serve`` for one lab state folder.

The lab records the pid of every process it starts in ``<state>/run/<component>.lab.pid`` and only ever
stops those (checking the command line still names this lab, so a recycled pid is left alone).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import yaml

from ivr_engine.config import Settings
from ivr_engine.lab.errors import AsteriskMissing, LabStartError, PortInUse
from ivr_engine.lab.paths import LabPaths
from ivr_engine.lab.probe import ari_status, pid_alive, port_free
from ivr_engine.lab.process import log_since, log_size, reap, spawn, tail, terminate, wait_until
from ivr_engine.lab.render import RTP_RANGE, write_configs
from ivr_engine.logfiles import Rotation, rotate_if_over
from ivr_engine.privatefiles import make_private_dir, write_private

__all__ = [
    "Component", "ComponentState", "LabStatus", "down", "restart_serve", "serve_command", "status", "up",
]  # fmt: skip

ASTERISK_MODULES = Path("/usr/lib/asterisk/modules")
Echo = Callable[[str], None]


class Component(StrEnum):
    ASTERISK = "asterisk"
    SERVE = "serve"


@dataclass(frozen=True)
class ComponentState:
    component: Component
    pid: int | None
    running: bool
    detail: str


@dataclass(frozen=True)
class LabStatus:
    """What runs in one lab, and where its logs are."""

    paths: LabPaths
    components: tuple[ComponentState, ...]

    @property
    def running(self) -> bool:
        return any(c.running for c in self.components)

    def state_of(self, component: Component) -> ComponentState:
        return next(c for c in self.components if c.component == component)

    def table(self) -> str:
        rows = [("COMPONENT", "STATE", "PID", "DETAIL")] + [
            (c.component.value, "running" if c.running else "stopped", str(c.pid or "-"), c.detail)
            for c in self.components
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + "  " + row[3]
                 for row in rows]  # fmt: skip
        lines.append(f"state folder: {self.paths.root}")
        lines.append(f"logs: {self.paths.full_log} (Asterisk), {self.paths.serve_log} (ivr serve)")
        return "\n".join(line.rstrip() for line in lines)


def _marker(paths: LabPaths, component: Component) -> str:
    return str(paths.asterisk_conf if component == Component.ASTERISK else paths.settings_file)


def _recorded_pid(paths: LabPaths, component: Component) -> int | None:
    """The pid the lab started for ``component``, if that process still runs."""
    candidates = [paths.pid_file(component)]
    if component == Component.ASTERISK:
        candidates.append(paths.run / "asterisk.pid")  # Asterisk's own pid file, should ours be lost
    for pid_file in candidates:
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            continue
        if pid_alive(pid, _marker(paths, component)):
            return pid
    return None


def status(settings: Settings) -> LabStatus:
    """What runs in the lab at ``settings.state_dir``."""
    paths = LabPaths.for_state_dir(settings.state_dir)
    settings = settings.with_secrets() if paths.root.exists() else settings
    ast_pid = _recorded_pid(paths, Component.ASTERISK)
    if ast_pid is None:
        ast_detail = "not running"
    else:
        code = ari_status(settings, "/asterisk/info")
        ast_detail = f"ARI {settings.ari_url} " + ("answers" if code == 200 else f"not ready ({code})")
    serve_pid = _recorded_pid(paths, Component.SERVE)
    if serve_pid is None:
        serve_detail = "not running"
    else:
        code = ari_status(settings, f"/applications/{settings.app_name}")
        registered = "registered" if code == 200 else "not registered"
        serve_detail = f"Stasis app {settings.app_name} {registered}"
    return LabStatus(
        paths=paths,
        components=(
            ComponentState(Component.ASTERISK, ast_pid, ast_pid is not None, ast_detail),
            ComponentState(Component.SERVE, serve_pid, serve_pid is not None, serve_detail),
        ),
    )


def _check_installed() -> str:
    binary = shutil.which("asterisk")
    if binary is None or not (ASTERISK_MODULES / "res_ari.so").exists():
        raise AsteriskMissing("Asterisk is not installed: run sip-lab/install (as root) first.")
    return binary


def _check_ports(settings: Settings) -> None:
    taken = []
    if not port_free(settings.sip_host, settings.sip_port, socket.SOCK_DGRAM):
        taken.append(f"SIP {settings.sip_host}:{settings.sip_port}/udp")
    if not port_free(settings.ari_host, settings.ari_port, socket.SOCK_STREAM):
        taken.append(f"ARI {settings.ari_host}:{settings.ari_port}/tcp")
    if taken:
        raise PortInUse(
            f"{' and '.join(taken)} already taken by another process: stop it, or give this lab "
            "other ports (IVR_SIP_PORT, IVR_ARI_PORT)."
        )


def _problems(path: Path, offset: int, most: int = 8) -> list[str]:
    """The ERROR and WARNING lines Asterisk wrote to ``path`` after ``offset``."""
    lines = log_since(path, offset).splitlines()
    return [line for line in lines if " ERROR[" in line or " WARNING[" in line][-most:]


_HTTP_BIND_FAILED = re.compile(r"Unable to bind http server to (?P<address>\S+): (?P<reason>.+)$", re.M)


def _http_bind_failure(path: Path, offset: int) -> str | None:
    """Asterisk's reason when its HTTP server (ARI) could not bind; it runs on without ARI then."""
    match = _HTTP_BIND_FAILED.search(log_since(path, offset))
    return f"{match['address']}: {match['reason']}" if match else None


PRIVATE_UMASK = 0o077
"""Asterisk cannot be told the mode of its log files: started with this umask they are 0600."""


def make_lab_dirs(paths: LabPaths) -> None:
    """The state folder's directories; the log folder 0700 (made so, not chmod'ed)."""
    for directory in paths.directories():
        if directory == paths.log:
            make_private_dir(directory)
        else:
            directory.mkdir(parents=True, exist_ok=True)


def rotate_asterisk_logs(paths: LabPaths, rotation: Rotation) -> None:
    """Asterisk rotates only when told (``logger rotate``): rotate its logs past the bound before it
    starts, with its own ``rotatestrategy = rotate`` names (``full.0`` newest)."""
    for log in (paths.full_log, paths.messages_log, paths.asterisk_out):
        rotate_if_over(log, rotation, first=0)


def _start_asterisk(
    settings: Settings, paths: LabPaths, rotation: Rotation, timeout_s: float, echo: Echo,
    rtp: tuple[int, int],
) -> None:  # fmt: skip
    binary = _check_installed()
    _check_ports(settings)
    make_lab_dirs(paths)
    write_configs(settings, paths.etc, paths, rtp=rtp)
    rotate_asterisk_logs(paths, rotation)
    log_from, out_from = log_size(paths.full_log), log_size(paths.asterisk_out)
    proc = spawn(
        [binary, "-C", str(paths.asterisk_conf), "-f"],
        paths.asterisk_out, paths.root, paths.pid_file(Component.ASTERISK), umask=PRIVATE_UMASK,
    )  # fmt: skip
    echo(f"asterisk started (pid {proc.pid}), waiting for ARI at {settings.ari_url}")
    ready = wait_until(
        lambda: ari_status(settings, "/asterisk/info") == 200,
        lambda: proc.poll() is None and _http_bind_failure(paths.full_log, log_from) is None,
        timeout_s,
    )
    if ready:
        return
    bind_failure = _http_bind_failure(paths.full_log, log_from)
    if bind_failure is not None:
        terminate(proc.pid, _marker(paths, Component.ASTERISK), 10.0)
        proc.wait()  # already reaped by _terminate: this only settles the Popen, which would warn otherwise
        paths.pid_file(Component.ASTERISK).unlink(missing_ok=True)
        raise PortInUse(
            f"Asterisk could not bind ARI ({bind_failure}): another process took the port first; "
            "Asterisk was stopped. Run `ivr lab up` again, or give this lab another IVR_ARI_PORT."
        )
    problems = "\n".join(_problems(paths.full_log, log_from)) or tail(paths.asterisk_out, offset=out_from)
    if proc.poll() is not None:
        raise LabStartError(
            f"Asterisk exited with code {proc.returncode} while starting; see {paths.asterisk_out} and "
            f"{paths.full_log}:\n{problems}"
        )
    raise LabStartError(
        f"Asterisk (pid {proc.pid}, still running: `ivr lab down` stops it) did not bring up ARI at "
        f"{settings.ari_url} within {timeout_s:.0f} s; see {paths.full_log}:\n{problems}"
    )


def serve_command(settings_file: Path, state_dir: Path, log_file: Path) -> list[str]:
    """How the lab starts ``ivr serve``: the ``ivr`` script beside this Python, else ``python -m cli``."""
    script = Path(sys.executable).with_name("ivr")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "cli"]
    return [*base, "--config", str(settings_file), "--state-dir", str(state_dir), "serve",
            "--log-file", str(log_file)]  # fmt: skip


def serve_environment() -> dict[str, str]:
    """This environment without the ``IVR_*`` settings (the ARI password aside): ``ivr serve`` runs with
    the settings file the lab wrote, which an ``IVR_*`` variable would otherwise override (a node of a
    multi-node lab would take the lab's ports)."""
    written = {f"IVR_{f.name.upper()}" for f in fields(Settings) if f.name != "ari_password"}
    return {key: value for key, value in os.environ.items() if key not in written}


def _kept_anchor(paths: LabPaths, clock_start: str) -> str:
    """The anchor already written for the same ``clock_start`` (a restart keeps its timeline), or ""."""
    try:
        old = yaml.safe_load(paths.settings_file.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return ""
    same = isinstance(old, dict) and old.get("clock_start") == clock_start
    anchor = old.get("clock_anchor") if same else ""
    return anchor if isinstance(anchor, str) else ""


def _write_settings_file(settings: Settings, paths: LabPaths) -> None:
    """The effective settings (without the password, which ``serve`` reads from the secrets file)."""
    values = {}
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if f.name == "ari_password":
            continue
        values[f.name] = str(value) if isinstance(value, Path) else value
    values["state_dir"] = str(paths.root)
    if values.get("clock_start") and not values.get("clock_anchor"):
        # One timeline for every process of the lab: a restarted `ivr serve` or another node must not
        # start the clock at clock_start again (times would run backwards against stored rows).
        values["clock_anchor"] = _kept_anchor(paths, values["clock_start"]) or datetime.now(UTC).isoformat()
    # 0600: database_url may carry a database password.
    write_private(paths.settings_file, yaml.safe_dump(values, sort_keys=True))


def _start_serve(
    settings: Settings, paths: LabPaths, rotation: Rotation, timeout_s: float, echo: Echo
) -> None:
    _write_settings_file(settings, paths)
    rotate_if_over(paths.serve_out, rotation)
    log_from, out_from = log_size(paths.serve_log), log_size(paths.serve_out)
    proc = spawn(
        serve_command(paths.settings_file, paths.root, paths.serve_log), paths.serve_out, Path.cwd(),
        paths.pid_file(Component.SERVE), env=serve_environment(),
    )  # fmt: skip
    echo(f"ivr serve started (pid {proc.pid}), waiting for Stasis app {settings.app_name}")
    if wait_until(
        lambda: ari_status(settings, f"/applications/{settings.app_name}") == 200,
        lambda: proc.poll() is None,
        timeout_s,
    ):
        return
    last_lines = "\n".join(
        text for text in (tail(paths.serve_out, lines=8, offset=out_from),
                          tail(paths.serve_log, lines=8, offset=log_from)) if text
    )  # fmt: skip
    where = f"{paths.serve_out} and {paths.serve_log}"
    if proc.poll() is not None:
        raise LabStartError(f"ivr serve exited with code {proc.returncode}; see {where}:\n{last_lines}")
    raise LabStartError(
        f"ivr serve did not register Stasis app {settings.app_name} within {timeout_s:.0f} s; "
        f"see {where}:\n{last_lines}"
    )


def up(
    settings: Settings,
    serve: bool = True,
    timeout_s: float = 30.0,
    echo: Echo = print,
    rtp: tuple[int, int] = RTP_RANGE,
) -> LabStatus:
    """Start what is not yet running (Asterisk, then ``ivr serve``) and wait until each is ready.

    ``rtp`` is Asterisk's RTP port range (each node of a multi-node lab has its own share)."""
    settings = settings.with_secrets()
    rotation = Rotation.of(settings)  # a bad log setting stops `up` before anything starts
    paths = LabPaths.for_state_dir(settings.state_dir)
    paths.run.mkdir(parents=True, exist_ok=True)
    current = status(settings)
    asterisk = current.state_of(Component.ASTERISK)
    if asterisk.running:
        echo(f"asterisk already running (pid {asterisk.pid})")
    else:
        _start_asterisk(settings, paths, rotation, timeout_s, echo, rtp)
    if serve:
        running = current.state_of(Component.SERVE)
        if running.running:
            echo(f"ivr serve already running (pid {running.pid})")
        else:
            _start_serve(settings, paths, rotation, timeout_s, echo)
    return status(settings)


def restart_serve(settings: Settings, timeout_s: float = 30.0, echo: Echo = print) -> None:
    """Stop this lab's ``ivr serve`` (if it runs) and start it again with ``settings``, e.g. on another
    clock (``clock_start``/``clock_anchor``): Asterisk keeps running."""
    settings = settings.with_secrets()
    paths = LabPaths.for_state_dir(settings.state_dir)
    pid = _recorded_pid(paths, Component.SERVE)
    if pid is not None:
        terminate(pid, _marker(paths, Component.SERVE), timeout_s)
        echo(f"ivr serve stopped (pid {pid})")
    _start_serve(settings, paths, Rotation.of(settings), timeout_s, echo)


def down(settings: Settings, timeout_s: float = 15.0, echo: Echo = print) -> list[Component]:
    """Stop the processes this lab started (``ivr serve`` first, then Asterisk); return what stopped."""
    paths = LabPaths.for_state_dir(settings.state_dir)
    stopped: list[Component] = []
    serve_pid = _recorded_pid(paths, Component.SERVE)
    if serve_pid is not None:
        terminate(serve_pid, _marker(paths, Component.SERVE), timeout_s)
        stopped.append(Component.SERVE)
        echo(f"ivr serve stopped (pid {serve_pid})")
    ast_pid = _recorded_pid(paths, Component.ASTERISK)
    if ast_pid is not None:
        marker = _marker(paths, Component.ASTERISK)
        binary = shutil.which("asterisk") or "asterisk"
        subprocess.run(
            [binary, "-C", str(paths.asterisk_conf), "-rx", "core stop now"],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, check=False,
        )  # fmt: skip
        if not wait_until(lambda: not pid_alive(ast_pid, marker), lambda: True, timeout_s):
            terminate(ast_pid, marker, timeout_s)
        reap(ast_pid)
        stopped.append(Component.ASTERISK)
        echo(f"asterisk stopped (pid {ast_pid})")
    for component in Component:
        paths.pid_file(component).unlink(missing_ok=True)
    if not stopped:
        echo(f"nothing of this lab runs ({paths.root})")
    return stopped
