"""Kamailio in front of a multi-node lab: its config, its process, and its view of the nodes.

The config is rendered from ``dialplans/kamailio/*.j2`` into ``<state>/kamailio/``. Kamailio runs in the
foreground of its own session (``-DD -E``: its log is its stderr, ``kamailio.log``); the lab records its
pid like Asterisk's. Its view of the nodes comes from the dispatcher module over JSON-RPC on a datagram
socket in the same folder (``dispatcher.list``): no network, no extra tool. ``kamcmd -s
unix:<state>/kamailio/ctl.sock dispatcher.list`` shows the same by hand.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import jinja2

from ivr_engine.config import PROJECT_ROOT
from ivr_engine.lab.errors import KamailioMissing, RenderError
from ivr_engine.lab.topology import Topology

__all__ = [
    "KAMAILIO_MODULES",
    "REQUIRED_MODULES",
    "DispatcherTarget",
    "KamailioFiles",
    "KamailioMissing",
    "NodeState",
    "check_installed",
    "dispatcher_view",
    "kamailio_command",
    "render_kamailio",
    "wait_for_view",
    "write_kamailio",
]

KAMAILIO_MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")
"""Where Debian bookworm's ``kamailio`` package keeps its modules."""
REQUIRED_MODULES = (
    "kex", "tm", "sl", "rr", "pv", "maxfwd", "textops", "siputils", "xlog", "htable", "ctl", "jsonrpcs",
    "dispatcher",
)  # fmt: skip
TEMPLATES_DIR = PROJECT_ROOT / "dialplans" / "kamailio"
DISPATCHER_SET = 1
PING_INTERVAL_S = 1
FR_TIMER_MS = 2000
"""A probe (or an INVITE without a provisional reply) unanswered this long fails: with one probe a
second and one failure enough, a dead node is inactive 1 to 3 s after it dies."""
_SOCKET_PATH_MAX = 107
"""sun_path holds 108 bytes with the closing NUL."""


class NodeState(StrEnum):
    """The dispatcher's state of a node (the first letter of its FLAGS)."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    DISABLED = "disabled"
    TRYING = "trying"


_STATES = {"A": NodeState.ACTIVE, "I": NodeState.INACTIVE, "D": NodeState.DISABLED, "T": NodeState.TRYING}


@dataclass(frozen=True)
class DispatcherTarget:
    """One node as Kamailio's dispatcher sees it."""

    uri: str
    node: str
    state: NodeState
    probing: bool
    flags: str

    def as_json(self) -> dict[str, Any]:
        return {"uri": self.uri, "node": self.node, "state": self.state.value, "probing": self.probing,
                "flags": self.flags}  # fmt: skip


@dataclass(frozen=True)
class KamailioFiles:
    """What Kamailio reads and writes in ``<state>/kamailio``."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "kamailio.cfg"

    @property
    def dispatcher_list(self) -> Path:
        return self.root / "dispatcher.list"

    @property
    def rpc_socket(self) -> Path:
        return self.root / "rpc.sock"

    @property
    def ctl_socket(self) -> Path:
        return self.root / "ctl.sock"

    @property
    def log(self) -> Path:
        return self.root / "kamailio.log"

    @property
    def pid_file(self) -> Path:
        """The pid the lab recorded (Kamailio's own pid file is ``kamailio.pid``)."""
        return self.root / "kamailio.lab.pid"

    @property
    def own_pid_file(self) -> Path:
        return self.root / "kamailio.pid"


def check_installed() -> str:
    """The kamailio binary; KamailioMissing when it or a module the config loads is not installed."""
    binary = shutil.which("kamailio")
    missing = [name for name in REQUIRED_MODULES if not (KAMAILIO_MODULES / f"{name}.so").exists()]
    if binary is None or missing:
        what = "kamailio is not installed" if binary is None else f"Kamailio lacks {', '.join(missing)}"
        raise KamailioMissing(f"{what}: run sip-lab/install (as root) first.")
    return binary


def _context(topology: Topology, files: KamailioFiles) -> dict[str, Any]:
    return {
        "sip_host": topology.sip_host,
        "sip_port": topology.sip_port,
        "nodes": topology.nodes,
        "dispatcher_set": DISPATCHER_SET,
        "dispatcher_list": files.dispatcher_list,
        "algorithm": 4,
        "algorithm_name": "round-robin",
        "ping_interval_s": PING_INTERVAL_S,
        "probing_threshold": 1,
        "inactive_threshold": 1,
        "fr_timer_ms": FR_TIMER_MS,
        "fr_inv_timer_ms": 60_000,
        "dialog_expiry_s": 4 * 3600,
        "children": 2,
        "debug_level": 2,
        "modules_dir": KAMAILIO_MODULES,
        "ctl_socket": files.ctl_socket,
        "rpc_socket": files.rpc_socket,
    }


def render_kamailio(
    topology: Topology, files: KamailioFiles, templates_dir: Path = TEMPLATES_DIR
) -> dict[str, str]:
    """``{file name: text}`` for ``kamailio.cfg`` and ``dispatcher.list``."""
    for path in (files.rpc_socket, files.ctl_socket):
        if len(str(path)) > _SOCKET_PATH_MAX - 16:  # room for the client sockets' longer names
            raise RenderError(f"{path}: the state folder's path is too long for a UNIX socket: use a "
                              "shorter --state-dir")  # fmt: skip
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir), undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False,
    )  # fmt: skip
    context = _context(topology, files)
    rendered = {}
    for name in ("kamailio.cfg", "dispatcher.list"):
        try:
            rendered[name] = env.get_template(f"{name}.j2").render(context)
        except jinja2.TemplateError as exc:
            raise RenderError(f"{templates_dir / name}.j2: {exc}") from exc
    return rendered


def write_kamailio(topology: Topology, files: KamailioFiles) -> None:
    files.root.mkdir(parents=True, exist_ok=True)
    for name, text in render_kamailio(topology, files).items():
        (files.root / name).write_text(text)


def kamailio_command(binary: str, files: KamailioFiles) -> list[str]:
    """Foreground (``-DD``), logging to stderr (``-E``), runtime files in the lab's folder (``-Y``)."""
    return [binary, "-f", str(files.config), "-P", str(files.own_pid_file), "-Y", str(files.root),
            "-DD", "-E", "-m", "64", "-M", "8"]  # fmt: skip


def _rpc(files: KamailioFiles, method: str, timeout_s: float) -> Any:
    """Kamailio's JSON-RPC ``result`` for ``method``; OSError/TimeoutError/ValueError when it fails."""
    client = files.root / f"c{os.getpid()}-{uuid.uuid4().hex[:8]}.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(client))
        try:
            sock.settimeout(timeout_s)
            request = {"jsonrpc": "2.0", "method": method, "id": 1}
            sock.sendto(json.dumps(request).encode(), str(files.rpc_socket))
            reply = json.loads(sock.recv(1 << 20))
        finally:
            with contextlib.suppress(OSError):
                client.unlink()
    if not isinstance(reply, dict) or "result" not in reply:
        raise ValueError(f"{method}: unexpected reply {reply!r}")
    return reply["result"]


def _target(dest: dict[str, Any]) -> DispatcherTarget:
    flags = str(dest.get("FLAGS", ""))
    attrs = dest.get("ATTRS") or {}
    body = str(attrs.get("BODY") or "")
    name = next((part[5:] for part in body.split(";") if part.startswith("name=")), "")
    return DispatcherTarget(
        uri=str(dest.get("URI", "")), node=name, state=_STATES.get(flags[:1], NodeState.TRYING),
        probing="P" in flags[1:], flags=flags,
    )  # fmt: skip


def dispatcher_view(files: KamailioFiles, timeout_s: float = 2.0) -> list[DispatcherTarget] | None:
    """Every node of the dispatcher's set as Kamailio sees it now, or None when Kamailio does not answer."""
    try:
        result = _rpc(files, "dispatcher.list", timeout_s)
    except (OSError, TimeoutError, ValueError):
        return None
    targets = []
    for record in result.get("RECORDS") or []:
        for entry in (record.get("SET") or {}).get("TARGETS") or []:
            targets.append(_target(entry.get("DEST") or {}))
    return sorted(targets, key=lambda t: (t.node, t.uri))


def wait_for_view(
    files: KamailioFiles,
    ready: Callable[[list[DispatcherTarget]], bool],
    timeout_s: float,
    interval_s: float = 0.1,
) -> list[DispatcherTarget] | None:
    """Poll the dispatcher view until ``ready(view)`` holds; the last view (None: no answer) either way."""
    deadline = time.monotonic() + timeout_s
    view = dispatcher_view(files)
    while not (view is not None and ready(view)) and time.monotonic() < deadline:
        time.sleep(interval_s)
        view = dispatcher_view(files)
    return view
