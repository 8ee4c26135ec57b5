"""Serve the control app on ``settings.http_host:http_port`` (loopback only) from the running service.

::

    runner = await start_control_server(make_control_app(control, screenpops, token), settings)
    ...
    await runner.cleanup()
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from ivr_engine.config import Settings
from ivr_engine.control.errors import ControlError

__all__ = ["start_control_server"]


async def start_control_server(
    app: web.Application, settings: Settings, *, shutdown_timeout: float = 2.0
) -> web.AppRunner:
    """Start serving ``app``; raises ``ControlError`` for a non-loopback host or a port in use."""
    host = settings.http_host
    if host != "localhost" and not _loopback(host):
        raise ControlError(f"the control API binds to loopback only; http_host {host!r} is not")
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, settings.http_port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ControlError(
            f"cannot serve the control API on {host}:{settings.http_port}: {exc.strerror or exc}"
        ) from None
    return runner


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
