"""A multi-node lab's shape: N Asterisk nodes, each on its own ports and state folder, behind Kamailio.

``ivr lab up --nodes N`` plans the shape once and records it in ``<state>/lab-nodes.yaml``: Kamailio
takes the lab's SIP port (``sip_port``); node 1 keeps the lab's ARI and web ports (so ``ivr`` commands and
the browser reach it as on a single node) and every other port is a free loopback port. Asterisk's RTP
range is split between the nodes. Each node's ``ivr serve`` gets the lab's settings with its own ports,
state folder (``<state>/nodes/<i>``) and ``node_id`` (``node<i>``), and the lab's one database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ivr_engine.config import Settings
from ivr_engine.lab.errors import NoSharedDatabase, TopologyError
from ivr_engine.lab.paths import LabPaths
from ivr_engine.lab.ports import free_tcp_port, free_udp_port
from ivr_engine.lab.render import RTP_RANGE

__all__ = [
    "MAX_NODES",
    "LabNode",
    "NoSharedDatabase",
    "Topology",
    "TopologyError",
    "node_settings",
    "plan",
    "require_shared_database",
    "rtp_ranges",
]

MAX_NODES = 8
"""Each node gets 1/N of Asterisk's 10,000 RTP ports: 8 nodes still hold 600 calls each."""


@dataclass(frozen=True)
class LabNode:
    """One Asterisk node and its ``ivr serve``: where each listens."""

    index: int
    sip_port: int
    ari_port: int
    http_port: int
    rtp_start: int
    rtp_end: int

    @property
    def name(self) -> str:
        """The node's id: its ``node_id`` setting, stored on the calls it handles."""
        return f"node{self.index}"

    @property
    def rtp(self) -> tuple[int, int]:
        return self.rtp_start, self.rtp_end


@dataclass(frozen=True)
class Topology:
    """The nodes of a multi-node lab, and the SIP address Kamailio listens on for all of them."""

    sip_host: str
    sip_port: int
    nodes: tuple[LabNode, ...]

    def node(self, index: int) -> LabNode:
        for node in self.nodes:
            if node.index == index:
                return node
        raise TopologyError(f"this lab has no node {index}: its nodes are 1 to {len(self.nodes)}")

    def save(self, path: Path) -> None:
        data = {"sip_host": self.sip_host, "sip_port": self.sip_port,
                "nodes": [asdict(node) for node in self.nodes]}  # fmt: skip
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    @classmethod
    def load(cls, path: Path) -> Topology | None:
        """The recorded topology, or None when this lab is a single node (no file)."""
        try:
            text = path.read_text()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TopologyError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        try:
            data: Any = yaml.safe_load(text)
            nodes = tuple(LabNode(**{k: int(v) for k, v in node.items()}) for node in data["nodes"])
            return cls(sip_host=str(data["sip_host"]), sip_port=int(data["sip_port"]), nodes=nodes)
        except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TopologyError(
                f"{path} is damaged ({type(exc).__name__}: {exc}): stop what runs with `ivr lab down`, "
                "remove the file, and start the lab again"
            ) from exc


def rtp_ranges(count: int) -> list[tuple[int, int]]:
    """Asterisk's RTP range split into ``count`` disjoint ranges, each starting on an even port."""
    low, high = RTP_RANGE
    width = (high - low) // count
    width -= width % 2
    return [(low + i * width, low + (i + 1) * width - 1) for i in range(count)]


def plan(settings: Settings, count: int) -> Topology:
    """Ports for ``count`` nodes (2 to MAX_NODES) behind Kamailio on the lab's SIP port."""
    if not 2 <= count <= MAX_NODES:
        raise TopologyError(f"--nodes {count}: a multi-node lab has 2 to {MAX_NODES} nodes")
    nodes = []
    for index, (rtp_start, rtp_end) in enumerate(rtp_ranges(count), start=1):
        first = index == 1
        nodes.append(
            LabNode(
                index=index,
                sip_port=free_udp_port(settings.sip_host),
                ari_port=settings.ari_port if first else free_tcp_port(settings.ari_host),
                http_port=settings.http_port if first else free_tcp_port(settings.http_host),
                rtp_start=rtp_start,
                rtp_end=rtp_end,
            )
        )
    return Topology(sip_host=settings.sip_host, sip_port=settings.sip_port, nodes=tuple(nodes))


def node_settings(settings: Settings, paths: LabPaths, node: LabNode) -> Settings:
    """The settings node ``node``'s Asterisk and ``ivr serve`` run with (same database, own ports)."""
    return replace(
        settings,
        state_dir=paths.node(node.index).root,
        sip_port=node.sip_port,
        ari_port=node.ari_port,
        http_port=node.http_port,
        node_id=node.name,
        pin_key_file=settings.pin_key_path,  # one key for the one database's PIN hashes
    )


def require_shared_database(settings: Settings, count: int) -> None:
    """Several nodes need one PostgreSQL database: SQLite cannot be shared safely between services."""
    try:
        backend = make_url(settings.database_url).get_backend_name() if settings.database_url else "sqlite"
    except ArgumentError:
        backend = "unknown"
    if backend != "postgresql":
        raise NoSharedDatabase(
            f"--nodes {count} needs one PostgreSQL database for all nodes (a SQLite file cannot be "
            "shared safely by several services): set IVR_DATABASE_URL (or database_url) to e.g. "
            "postgresql+psycopg://user@127.0.0.1:5432/ivr, run `ivr db init` (and `ivr db seed`), then "
            "`ivr lab up --nodes N` again"
        )
