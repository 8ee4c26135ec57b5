"""``ivr lab up --nodes N``: N Asterisk nodes, each with its own ``ivr serve``, behind Kamailio.

Each node is a single-node lab (``control``) in ``<state>/nodes/<i>`` on the ports ``topology`` planned;
all share the lab's database (PostgreSQL). Kamailio (``kamailio``) listens on the lab's SIP port and
spreads new calls over the nodes it sees alive. ``down`` stops Kamailio first (no new calls), then every
node, and forgets the topology; ``node_down``/``node_up`` stop and restart one node while the rest run.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from ivr_engine.config import Settings
from ivr_engine.lab import control
from ivr_engine.lab.control import Component, LabStatus
from ivr_engine.lab.errors import LabError, LabStartError, PortInUse
from ivr_engine.lab.kamailio import (
    DispatcherTarget,
    KamailioFiles,
    NodeState,
    check_installed,
    dispatcher_view,
    kamailio_command,
    wait_for_view,
    write_kamailio,
)
from ivr_engine.lab.paths import LabPaths
from ivr_engine.lab.probe import pid_alive, port_free
from ivr_engine.lab.process import log_since, log_size, spawn, tail, terminate, wait_until
from ivr_engine.lab.topology import (
    LabNode,
    Topology,
    TopologyError,
    node_settings,
    plan,
    require_shared_database,
)
from ivr_engine.logfiles import Rotation, rotate_if_over
from ivr_engine.privatefiles import write_private

__all__ = [
    "MultiNodeStatus",
    "NodeStatus",
    "down",
    "node_down",
    "node_up",
    "status",
    "topology_of",
    "up",
]

Echo = Callable[[str], None]


@dataclass(frozen=True)
class NodeStatus:
    """One node: its ports, what runs of it, and whether Kamailio routes calls to it."""

    node: LabNode
    settings: Settings
    lab: LabStatus
    target: DispatcherTarget | None

    @property
    def routed(self) -> str:
        """Kamailio's state of the node ("unknown" when Kamailio does not answer)."""
        return self.target.state.value if self.target is not None else "unknown"

    def as_json(self) -> dict[str, Any]:
        n, s = self.node, self.settings
        return {
            "node": n.name,
            "index": n.index,
            "state_dir": str(self.lab.paths.root),
            "running": self.lab.running,
            "sip": f"{s.sip_host}:{n.sip_port}",
            "ari_url": s.ari_url,
            "web": f"http://{s.http_host}:{n.http_port}",
            "rtp": [n.rtp_start, n.rtp_end],
            "components": [
                {"component": c.component.value, "running": c.running, "pid": c.pid, "detail": c.detail}
                for c in self.lab.components
            ],
            "dispatcher": self.target.as_json() if self.target is not None else None,
            "logs": {"asterisk": str(self.lab.paths.full_log), "serve": str(self.lab.paths.serve_log)},
        }


@dataclass(frozen=True)
class MultiNodeStatus:
    """What runs in a multi-node lab: Kamailio, and each node with Kamailio's view of it."""

    paths: LabPaths
    topology: Topology
    kamailio_pid: int | None
    nodes: tuple[NodeStatus, ...]

    @property
    def running(self) -> bool:
        return self.kamailio_pid is not None or any(n.lab.running for n in self.nodes)

    @property
    def kamailio(self) -> KamailioFiles:
        return KamailioFiles(self.paths.kamailio)

    def node(self, index: int) -> NodeStatus:
        return next(n for n in self.nodes if n.node.index == index)

    def table(self) -> str:
        t = self.topology
        proxy = (f"SIP udp {t.sip_host}:{t.sip_port}, round-robin over the active nodes of "
                 f"{len(t.nodes)}")  # fmt: skip
        rows = [("NODE", "PART", "STATE", "PID", "DETAIL"),
                ("proxy", "kamailio", "running" if self.kamailio_pid else "stopped",
                 str(self.kamailio_pid or "-"), proxy if self.kamailio_pid else "not running")]  # fmt: skip
        for n in self.nodes:
            for c in n.lab.components:
                detail = c.detail
                if c.component == Component.ASTERISK and c.running:
                    rtp = f"RTP {n.node.rtp_start}-{n.node.rtp_end}"
                    detail = f"SIP udp {t.sip_host}:{n.node.sip_port}, {detail}, {rtp}"
                if c.component == Component.SERVE and c.running:
                    detail = f"{detail}, web http://{n.settings.http_host}:{n.node.http_port}"
                rows.append((n.node.name, c.component.value, "running" if c.running else "stopped",
                             str(c.pid or "-"), detail))  # fmt: skip
            seen = (f"Kamailio's view of sip:{t.sip_host}:{n.node.sip_port}: flags {n.target.flags}"
                    if n.target is not None else "Kamailio does not answer")  # fmt: skip
            rows.append((n.node.name, "dispatcher", n.routed, "-", seen))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
                 for row in rows]  # fmt: skip
        lines.append(f"state folder: {self.paths.root} (nodes in {self.paths.root / 'nodes'})")
        lines.append(f"logs: {self.kamailio.log} (Kamailio); each node's log/full and log/serve.log")
        return "\n".join(line.rstrip() for line in lines)

    def as_json(self) -> dict[str, Any]:
        t = self.topology
        return {
            "state_dir": str(self.paths.root),
            "running": self.running,
            "kamailio": {
                "running": self.kamailio_pid is not None,
                "pid": self.kamailio_pid,
                "sip": f"{t.sip_host}:{t.sip_port}",
                "log": str(self.kamailio.log),
                "rpc_socket": str(self.kamailio.rpc_socket),
            },
            "nodes": [n.as_json() for n in self.nodes],
        }


def topology_of(settings: Settings) -> Topology | None:
    """The multi-node topology recorded in the lab's state folder; None for a single-node lab."""
    return Topology.load(LabPaths.for_state_dir(settings.state_dir).topology_file)


def _kamailio_pid(files: KamailioFiles) -> int | None:
    try:
        pid = int(files.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid, str(files.config)) else None


def status(settings: Settings) -> MultiNodeStatus | None:
    """What runs in the multi-node lab at ``settings.state_dir``; None when it is not one."""
    topology = topology_of(settings)
    if topology is None:
        return None
    settings = settings.with_secrets()
    paths = LabPaths.for_state_dir(settings.state_dir)
    files = KamailioFiles(paths.kamailio)
    pid = _kamailio_pid(files)
    view = dispatcher_view(files) if pid is not None else None
    by_node = {target.node: target for target in view or []}
    nodes = []
    for node in topology.nodes:
        ns = node_settings(settings, paths, node)
        nodes.append(NodeStatus(node, ns, control.status(ns), by_node.get(node.name)))
    return MultiNodeStatus(paths=paths, topology=topology, kamailio_pid=pid, nodes=tuple(nodes))


def _prefixed(echo: Echo, prefix: str) -> Echo:
    return lambda line: echo(f"{prefix}: {line}")


def _start_node(
    settings: Settings, paths: LabPaths, node: LabNode, serve: bool, timeout_s: float, echo: Echo
) -> None:
    ns = node_settings(settings, paths, node)
    ns.state_dir.mkdir(parents=True, exist_ok=True)
    # The node's `ivr serve` reads the ARI password from its own state folder: the lab's one.
    write_private(ns.secrets_file, yaml.safe_dump({"ari_password": settings.ari_password}))
    try:
        control.up(ns, serve=serve, timeout_s=timeout_s, echo=_prefixed(echo, node.name), rtp=node.rtp)
    except LabError as exc:
        raise type(exc)(f"{node.name}: {exc}") from exc


_KAMAILIO_PROBLEM = re.compile(r"\b(ERROR|CRITICAL|ALERT|BUG)\b")


def _check_proxy_port(host: str, port: int) -> None:
    if not port_free(host, port, socket.SOCK_DGRAM):
        raise PortInUse(
            f"SIP {host}:{port}/udp (Kamailio's) already taken by another process: stop it, or give this "
            "lab another IVR_SIP_PORT."
        )


def _start_kamailio(
    topology: Topology, files: KamailioFiles, rotation: Rotation, timeout_s: float, echo: Echo
) -> None:
    binary = check_installed()
    _check_proxy_port(topology.sip_host, topology.sip_port)
    write_kamailio(topology, files)
    rotate_if_over(files.log, rotation)
    for stale in (files.rpc_socket, files.ctl_socket):
        stale.unlink(missing_ok=True)
    log_from = log_size(files.log)
    proc = spawn(kamailio_command(binary, files), files.log, files.root, files.pid_file)
    echo(f"kamailio started (pid {proc.pid}) on {topology.sip_host}:{topology.sip_port}, "
         f"probing {len(topology.nodes)} nodes")  # fmt: skip
    answers = wait_until(
        lambda: dispatcher_view(files, 0.5) is not None, lambda: proc.poll() is None, timeout_s
    )
    if not answers:
        lines = log_since(files.log, log_from).splitlines()
        problems = "\n".join([line for line in lines if _KAMAILIO_PROBLEM.search(line)][-8:])
        problems = problems or tail(files.log, lines=8, offset=log_from)
        if proc.poll() is not None:
            raise LabStartError(
                f"Kamailio exited with code {proc.returncode} while starting; see {files.log}:\n{problems}"
            )
        raise LabStartError(
            f"Kamailio (pid {proc.pid}, still running: `ivr lab down` stops it) did not answer on "
            f"{files.rpc_socket} within {timeout_s:.0f} s; see {files.log}:\n{problems}"
        )


def _answered(target: DispatcherTarget) -> bool:
    """Active after at least one probe (the dispatcher shows every node active before it probes)."""
    return target.state is NodeState.ACTIVE and target.probing


def _wait_routed(files: KamailioFiles, names: set[str], timeout_s: float, echo: Echo) -> None:
    """Wait until Kamailio has probed every node in ``names`` and routes to it; say which ones it does not."""
    view = wait_for_view(files, lambda v: names <= {t.node for t in v if _answered(t)}, timeout_s)
    if view is None:
        raise LabStartError(f"Kamailio does not answer on {files.rpc_socket}; see {files.log}")
    silent = sorted(names - {t.node for t in view if _answered(t)})
    if silent:
        states = ", ".join(f"{t.node} {t.state.value} ({t.flags})" for t in view if t.node in silent)
        raise LabStartError(
            f"Kamailio does not route calls to {', '.join(silent)} after {timeout_s:.0f} s ({states}): the "
            f"node does not answer its OPTIONS probes; see {files.log} and the node's log/full"
        )
    echo(f"kamailio: routes new calls to {', '.join(sorted(names))}")


def up(
    settings: Settings, count: int, serve: bool = True, timeout_s: float = 30.0, echo: Echo = print
) -> MultiNodeStatus:
    """Start what is not yet running of ``count`` nodes and Kamailio, and wait until each is ready."""
    settings = settings.with_secrets()
    rotation = Rotation.of(settings)  # a bad log setting stops `up` before anything starts
    require_shared_database(settings, count)
    check_installed()
    paths = LabPaths.for_state_dir(settings.state_dir)
    files = KamailioFiles(paths.kamailio)
    topology = Topology.load(paths.topology_file)
    if _kamailio_pid(files) is None:  # refused before any node starts
        where = topology or settings
        _check_proxy_port(where.sip_host, where.sip_port)
    if topology is not None and len(topology.nodes) != count:
        raise TopologyError(f"this lab runs {len(topology.nodes)} nodes, not {count}: `ivr lab down` first")
    if topology is None:
        if control.status(settings).running:
            raise TopologyError(f"a single-node lab runs in {paths.root}: `ivr lab down` it first")
        topology = plan(settings, count)
        paths.root.mkdir(parents=True, exist_ok=True)
        topology.save(paths.topology_file)
    for node in topology.nodes:
        _start_node(settings, paths, node, serve, timeout_s, echo)
    pid = _kamailio_pid(files)
    if pid is not None:
        echo(f"kamailio already running (pid {pid})")
    else:
        _start_kamailio(topology, files, rotation, timeout_s, echo)
    _wait_routed(files, {node.name for node in topology.nodes}, timeout_s, echo)
    current = status(settings)
    assert current is not None  # the topology was just saved
    return current


def _require(settings: Settings) -> tuple[Topology, LabPaths]:
    topology = topology_of(settings)
    if topology is None:
        raise TopologyError("this lab is not a multi-node lab: start one with `ivr lab up --nodes N`")
    return topology, LabPaths.for_state_dir(settings.state_dir)


def node_up(settings: Settings, index: int, timeout_s: float = 30.0, echo: Echo = print) -> MultiNodeStatus:
    """(Re)start node ``index`` and wait until Kamailio routes calls to it again."""
    settings = settings.with_secrets()
    topology, paths = _require(settings)
    node = topology.node(index)
    _start_node(settings, paths, node, True, timeout_s, echo)
    files = KamailioFiles(paths.kamailio)
    if _kamailio_pid(files) is None:
        echo("kamailio is not running: `ivr lab up` starts it")
    else:
        _wait_routed(files, {node.name}, timeout_s, echo)
    current = status(settings)
    assert current is not None
    return current


def node_down(settings: Settings, index: int, timeout_s: float = 15.0, echo: Echo = print) -> list[Component]:
    """Stop node ``index`` (its ``ivr serve``, then its Asterisk); Kamailio stops routing to it."""
    settings = settings.with_secrets()
    topology, paths = _require(settings)
    node = topology.node(index)
    return control.down(node_settings(settings, paths, node), timeout_s, _prefixed(echo, node.name))


def down(settings: Settings, timeout_s: float = 15.0, echo: Echo = print) -> bool:
    """Stop Kamailio, then every node, and forget the topology; False when this is no multi-node lab."""
    topology = topology_of(settings)
    if topology is None:
        return False
    settings = settings.with_secrets()
    paths = LabPaths.for_state_dir(settings.state_dir)
    files = KamailioFiles(paths.kamailio)
    pid = _kamailio_pid(files)
    if pid is not None:
        terminate(pid, str(files.config), timeout_s)
        echo(f"kamailio stopped (pid {pid})")
    files.pid_file.unlink(missing_ok=True)
    for node in topology.nodes:
        control.down(node_settings(settings, paths, node), timeout_s, _prefixed(echo, node.name))
    paths.topology_file.unlink()
    return True
