"""Free loopback ports, and the settings of a lab on them, so several labs can run side by side.

Ports are drawn at random from the gap between Asterisk's RTP range (10000-20000, see render.py) and the
kernel's ephemeral range (``ip_local_port_range``, usually from 32768). An ephemeral port (``bind(0)``)
looks free when it is picked, but any outgoing connection may take it before Asterisk binds it, and
Asterisk then runs on without ARI ("Unable to bind http server" in its full log). No port is handed out
twice by one process, so a lab's ARI and HTTP ports never coincide.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path
from typing import Any

from ivr_engine.config import Settings, load_settings
from ivr_engine.lab.errors import SippError
from ivr_engine.lab.probe import port_free
from ivr_engine.lab.render import RTP_RANGE

__all__ = ["free_tcp_port", "free_udp_port", "lab_port_range", "port_env", "private_lab_settings", "udp_free"]

_LOW = RTP_RANGE[1]
"""Above Asterisk's RTP range."""
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def lab_port_range() -> range:
    """Where lab ports come from: from the top of Asterisk's RTP range up to the kernel's ephemeral range."""
    try:
        ephemeral_low = int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    high = ephemeral_low if ephemeral_low - _LOW >= 2000 else 32768
    return range(_LOW, high)


def udp_free(host: str, port: int) -> bool:
    return port_free(host, port, socket.SOCK_DGRAM)


def _pick(host: str, kind: socket.SocketKind, span: int, what: str) -> int:
    """A port (even, with ``span - 1`` free ports after it when ``span > 1``) nobody holds right now."""
    pool = lab_port_range()
    for _ in range(500):
        port = random.randrange(pool.start, pool.stop - span)
        if span > 1:
            port -= port % 2
        block = range(port, port + span)
        if any(p in _handed_out for p in block):
            continue
        if all(port_free(host, p, kind) for p in block):
            _handed_out.update(block)
            return port
    raise SippError(f"no free {what} port on {host} between {pool.start} and {pool.stop}")


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody holds right now (for ARI and the service's HTTP)."""
    return _pick(host, socket.SOCK_STREAM, 1, "TCP")


def free_udp_port(host: str = "127.0.0.1") -> int:
    """An even UDP port, with the next three free too (SIPp's RTP/RTCP), nobody holds right now."""
    return _pick(host, socket.SOCK_DGRAM, 4, "UDP")


def private_lab_settings(state_dir: Path, **overrides: Any) -> Settings:
    """Settings for a lab in ``state_dir`` on free ports (agent 100N listens on agent_base_port + N)."""
    return load_settings(
        state_dir=state_dir,
        sip_port=free_udp_port(),
        ari_port=free_tcp_port(),
        http_port=free_tcp_port(),
        agent_base_port=free_udp_port() - 1,
        pstn_port=free_udp_port(),
        **overrides,
    )


def port_env(settings: Settings) -> dict[str, str]:
    """The ``IVR_*`` variables that make a child ``ivr`` process use ``settings``' ports."""
    return {
        "IVR_SIP_PORT": str(settings.sip_port),
        "IVR_ARI_PORT": str(settings.ari_port),
        "IVR_HTTP_PORT": str(settings.http_port),
        "IVR_AGENT_BASE_PORT": str(settings.agent_base_port),
        "IVR_PSTN_PORT": str(settings.pstn_port),
    }
