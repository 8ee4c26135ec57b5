"""Where every failure of the service's HTTP app becomes a response: one error middleware.

Our code raises :class:`Refusal` (a 4xx/5xx status, one sentence for the client, optional headers) for
anything the client must fix or wait for; the middleware answers it as JSON ``{"error": message}`` and
logs it at DEBUG only. The ACD's own exceptions map to 404 (unknown agent) and 409 (a transition the
state machine refuses, with its reason); aiohttp's HTTP exceptions (unknown route, wrong method) keep
their status with a JSON body. Anything else is a bug: logged once, with its traceback, in the service
log, and answered as a generic JSON 500 that carries neither the traceback nor the exception's text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

import acd
from ivr_engine.logs import fields

__all__ = ["HANDLER_ARGS", "SERVER_LOG", "Handler", "Refusal", "error_response", "errors_middleware"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refusal(Exception):
    """A request answered with ``status`` and ``{"error": message}``: ``raise Refusal(400, "...")``."""

    def __init__(self, status: int, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        if not 400 <= status <= 599:
            raise ValueError(f"a refusal needs a 4xx or 5xx status, not {status}")
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=dict(headers) if headers else None)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as ``{"error": ...}`` JSON; never a traceback to the client."""
    try:
        return await handler(request)
    except Refusal as exc:
        log.debug(fields("http.refused", method=request.method, path=request.path, status=exc.status,
                         error=exc.message))
        return error_response(exc.status, exc.message, exc.headers)
    except acd.UnknownAgent as exc:
        return error_response(404, str(exc))
    except acd.AcdError as exc:  # InvalidTransition and the like: the request conflicts with the state
        return error_response(409, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:  # a redirect raised by a handler
            raise
        return error_response(exc.status, _http_message(request, exc), _kept_headers(exc))
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error(fields("http.failed", method=request.method, path=request.path,
                         error=f"{type(exc).__name__}: {exc}"), exc_info=True)
        return error_response(500, "internal error in the ivr service; see its log")


def _http_message(request: web.Request, exc: web.HTTPException) -> str:
    if exc.status == 404:
        return f"no such endpoint: {request.method} {request.path}"
    if exc.status == 405:
        return f"{request.method} is not allowed on {request.path}"
    return exc.reason.lower()


def _kept_headers(exc: web.HTTPException) -> dict[str, str]:
    """The headers of an aiohttp error worth passing on (``Allow`` on a 405), not its content headers."""
    return {name: value for name, value in exc.headers.items() if name in ("Allow", "Retry-After")}


class _ClientFaults(logging.Filter):
    """Turn aiohttp's "Error handling request" about an unparseable request into a one-line warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.msg = fields("http.malformed_request", status=exc.code, error=exc.message.strip())
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


SERVER_LOG = logging.getLogger("ivr_engine.control.http_server")
"""Where aiohttp's connection handler logs for our apps (instead of ``aiohttp.server``)."""
SERVER_LOG.addFilter(_ClientFaults())

HANDLER_ARGS: dict[str, Any] = {"logger": SERVER_LOG}
"""``web.Application(handler_args=...)`` for every runner that serves the app, test servers included."""
