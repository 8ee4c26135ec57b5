"""DNS-rebinding protection: the service answers only requests addressed to itself by a name it knows.

A page on ``evil.example`` whose DNS name is re-pointed at 127.0.0.1 can make the browser send requests
to the service; they carry ``Host: evil.example:8090``. So the ``Host`` header must name a loopback
address (``localhost``, ``127.0.0.1``, ``[::1]``), the configured ``http_host``, or one of the extra
names in ``http_allowed_hosts``, on the port the request came in on; anything else is refused with 421
(a missing ``Host`` with 400). An extra entry that carries its own port (``proxy.lan:443``, for a
reverse proxy on the same machine that keeps the client's ``Host``) is matched as written.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

from ivr_engine.config import Settings
from ivr_engine.control.http_errors import Handler, Refusal

__all__ = ["LOOPBACK_NAMES", "allowed_hosts", "host_check"]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
_DEFAULT_PORT = 80


def allowed_hosts(settings: Settings) -> tuple[str, ...]:
    """The host names the service answers to besides the loopback ones: ``http_host`` and the
    comma-separated ``http_allowed_hosts``."""
    extra = [name.strip() for name in settings.http_allowed_hosts.split(",") if name.strip()]
    return (settings.http_host, *extra)


def host_check(extra: Iterable[str] = ()) -> Middleware:
    """A middleware refusing requests whose ``Host`` is not one of ours (see the module docstring)."""
    names = {_name(n) for n in LOOPBACK_NAMES}
    exact: set[str] = set()
    for entry in extra:
        name, port = _split(entry.strip().lower())
        if port is None:
            names.add(_name(name))
        else:
            exact.add(f"{_name(name)}:{port}")

    @web.middleware
    async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get(hdrs.HOST, "").strip()
        if not given:
            raise Refusal(400, "the request has no Host header")
        name, port = _split(given.lower())
        name = _name(name)
        here = _local_port(request)
        if port is None:
            port = _DEFAULT_PORT
        if f"{name}:{port}" in exact or (name in names and (here is None or port == here)):
            return await handler(request)
        shown = given if given.isascii() and given.isprintable() else ascii(given)
        where = f"127.0.0.1:{here}" if here is not None else "127.0.0.1"
        raise Refusal(421, f"this service does not answer to host {shown}; use http://{where}")

    return check_host


def _split(host: str) -> tuple[str, int | None]:
    """``name[:port]`` (``[v6][:port]``) into the name and the port (None when absent or not a port)."""
    if host.startswith("["):
        name, bracket, rest = host.partition("]")
        if not bracket:
            return host, None
        return f"{name}]", _port(rest[1:]) if rest.startswith(":") else None
    name, colon, port = host.rpartition(":")
    if not colon or ":" in name:  # no port, or a bare IPv6 address
        return host, None
    parsed = _port(port)
    return (name, parsed) if parsed is not None else (host, None)


def _port(text: str) -> int | None:
    if text.isascii() and text.isdigit() and len(text) <= 5 and 0 < int(text) < 65536:
        return int(text)
    return None


def _name(name: str) -> str:
    """A host name in one spelling: no trailing dot, IPv6 addresses bracketed and compressed."""
    name = name.rstrip(".")
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return name
    return f"[{address.compressed}]" if address.version == 6 else str(address)


def _local_port(request: web.Request) -> int | None:
    """The port the request arrived on (None when it is not known, e.g. a mocked request)."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if isinstance(sockname, tuple) and len(sockname) >= 2 and isinstance(sockname[1], int):
        return sockname[1]
    return None
