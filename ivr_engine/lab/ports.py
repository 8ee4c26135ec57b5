"""Free loopback ports, and the settings of a lab on them, so several labs can run side by side."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from ivr_engine.config import Settings, load_settings
from ivr_engine.lab.errors import SippError

__all__ = ["free_tcp_port", "free_udp_port", "port_env", "private_lab_settings", "udp_free"]


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody holds right now (for ARI and the service's HTTP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def udp_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port (with the next two free too, for SIPp's RTP/RTCP) nobody holds right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
        if port % 2 == 0 and port < 65000 and all(udp_free(host, port + i) for i in (1, 2, 3)):
            return port
    raise SippError("no free UDP port on loopback for SIPp")


def private_lab_settings(state_dir: Path, **overrides: Any) -> Settings:
    """Settings for a lab in ``state_dir`` on free ports (agent 100N listens on agent_base_port + N)."""
    return load_settings(
        state_dir=state_dir,
        sip_port=free_udp_port(),
        ari_port=free_tcp_port(),
        http_port=free_tcp_port(),
        agent_base_port=free_udp_port() - 1,
        **overrides,
    )


def port_env(settings: Settings) -> dict[str, str]:
    """The ``IVR_*`` variables that make a child ``ivr`` process use ``settings``' ports."""
    return {
        "IVR_SIP_PORT": str(settings.sip_port),
        "IVR_ARI_PORT": str(settings.ari_port),
        "IVR_HTTP_PORT": str(settings.http_port),
        "IVR_AGENT_BASE_PORT": str(settings.agent_base_port),
    }
