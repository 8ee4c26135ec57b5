"""Small synchronous probes the lab controller uses: free ports, ARI reachability, process identity."""

from __future__ import annotations

import base64
import http.client
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path

from ivr_engine.config import Settings

__all__ = ["ari_status", "pid_alive", "port_free"]


def port_free(host: str, port: int, kind: socket.SocketKind) -> bool:
    """True when nobody holds ``host:port`` for ``kind`` (SOCK_STREAM or SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        if kind == socket.SOCK_STREAM:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def ari_status(settings: Settings, path: str, timeout_s: float = 2.0) -> int | None:
    """HTTP status of ``GET <ari_url><path>`` with the lab's credentials; None if nothing answers."""
    token = base64.b64encode(f"{settings.ari_user}:{settings.ari_password}".encode()).decode()
    request = urllib.request.Request(settings.ari_url + path, headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError, http.client.HTTPException):  # e.g. a reply cut off at start-up
        return None


def pid_alive(pid: int, marker: str) -> bool:
    """True when ``pid`` runs (not a zombie) and its command line contains ``marker``.

    The marker (a path in the lab's state folder) guards against a recycled pid.
    """
    proc = Path(f"/proc/{pid}")
    try:
        stat = (proc / "stat").read_text()
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state != "Z" and marker in cmdline and _exists(pid)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
