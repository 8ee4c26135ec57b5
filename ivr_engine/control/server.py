"""Serve the control app on ``settings.http_host:http_port`` (loopback only) from the running service.

::

    runner = await start_control_server(make_control_app(control, screenpops, token), settings)
    ...
    await runner.cleanup()

A request aiohttp cannot even parse (a malformed request line or header, a bad chunked body) is the
client's fault: aiohttp answers it 400 itself, and its log line is one WARNING without a traceback
(``http.malformed_request``), not the ERROR with a traceback aiohttp logs by default.
"""

from __future__ import annotations

import ipaddress
import logging

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ivr_engine.config import Settings
from ivr_engine.control.errors import ControlError
from ivr_engine.logs import fields

__all__ = ["SERVER_LOG", "start_control_server"]


class _ClientFaults(logging.Filter):
    """Turn aiohttp's "Error handling request" for an unparseable request into a one-line warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.msg = fields("http.malformed_request", status=exc.code, error=exc.message)
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


SERVER_LOG = logging.getLogger("ivr_engine.control.http_server")
"""The logger aiohttp's connection handler logs to (instead of ``aiohttp.server``)."""
SERVER_LOG.addFilter(_ClientFaults())


async def start_control_server(
    app: web.Application, settings: Settings, *, shutdown_timeout: float = 2.0
) -> web.AppRunner:
    """Start serving ``app``; raises ``ControlError`` for a non-loopback host or a port in use."""
    host = settings.http_host
    if host != "localhost" and not _loopback(host):
        raise ControlError(f"the control API binds to loopback only; http_host {host!r} is not")
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout, logger=SERVER_LOG)
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
