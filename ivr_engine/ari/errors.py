"""The one exception tree for everything ARI.

::

    AriError                      base: anything the ARI client could not do
    ├── AriConnectionError        Asterisk unreachable, connection dropped, request timed out
    ├── AriProtocolError          Asterisk answered something we cannot read (bad JSON, missing fields)
    └── AriHttpError              ARI answered with an HTTP error; carries ``status`` and ARI's ``message``
        ├── AriAuthError          401/403: wrong ARI user or password
        ├── AriNotFound           404: channel, bridge, playback or recording gone (e.g. caller hung up)
        └── AriConflict           409: the resource is in the wrong state (e.g. channel not in Stasis)

aiohttp's own exceptions are mapped into this tree in one place, :func:`from_aiohttp`; nothing above the
client ever sees an aiohttp exception.
"""

from __future__ import annotations

import asyncio

import aiohttp

__all__ = [
    "AriAuthError",
    "AriConflict",
    "AriConnectionError",
    "AriError",
    "AriHttpError",
    "AriNotFound",
    "AriProtocolError",
    "from_aiohttp",
    "from_status",
]


class AriError(Exception):
    """Base of every ARI failure."""


class AriConnectionError(AriError):
    """Asterisk could not be reached, or the connection broke mid-request."""


class AriProtocolError(AriError):
    """Asterisk's answer was not what ARI documents (not JSON, missing fields)."""


class AriHttpError(AriError):
    """ARI refused a request; ``status`` is the HTTP status and ``message`` ARI's own explanation."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        super().__init__(f"ARI {method} {path} failed: HTTP {status}: {message or 'no message'}")


class AriAuthError(AriHttpError):
    """ARI rejected our user or password (check ari.conf and the state folder's secrets.yaml)."""


class AriNotFound(AriHttpError):
    """The channel, bridge, playback or recording does not exist (any more)."""


class AriConflict(AriHttpError):
    """The resource exists but is in the wrong state for the request."""


def from_status(method: str, path: str, status: int, message: str) -> AriHttpError:
    """The exception for an ARI HTTP error status."""
    kind: type[AriHttpError]
    if status in (401, 403):
        kind = AriAuthError
    elif status == 404:
        kind = AriNotFound
    elif status == 409:
        kind = AriConflict
    else:
        kind = AriHttpError
    return kind(method, path, status, message)


def from_aiohttp(method: str, path: str, exc: BaseException) -> AriError:
    """Map an aiohttp (or timeout) exception raised while talking to ARI into our tree."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return from_status(method, path, exc.status, exc.message)
    if isinstance(exc, aiohttp.ContentTypeError | ValueError):
        return AriProtocolError(f"ARI {method} {path}: unreadable answer: {exc}")
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return AriConnectionError(f"ARI {method} {path}: {type(exc).__name__}: {exc or 'no detail'}")
    return AriError(f"ARI {method} {path}: {exc}")
