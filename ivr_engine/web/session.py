"""Signed session cookies: ``<base64 JSON {"u": name, "exp": epoch}>.<base64 HMAC-SHA256>``.

Stateless: the cookie names the user and its expiry, signed with the users file's session key; every
request re-reads the user (a removed user is signed out at once). The cookie is HttpOnly and
SameSite=Strict; it is not ``Secure`` because the desktop is served over plain HTTP on loopback.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["COOKIE_NAME", "SESSION_SECONDS", "SessionSigner"]

COOKIE_NAME = "ivr_session"
SESSION_SECONDS = 12 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SessionSigner:
    key: Callable[[], bytes]
    clock: Callable[[], float] = time.time
    lifetime: float = SESSION_SECONDS

    def sign(self, user_name: str) -> str:
        payload = _b64(json.dumps({"u": user_name, "exp": int(self.clock() + self.lifetime)}).encode())
        return f"{payload}.{self._mac(payload)}"

    def verify(self, cookie: str) -> str | None:
        """The user name the cookie was signed for, or None if it is forged, malformed or expired
        (a cookie with bytes outside ASCII, which no signed cookie has, included)."""
        if not cookie.isascii():
            return None
        payload, _, mac = cookie.partition(".")
        if not payload or not mac or not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            return None
        try:
            data = json.loads(_unb64(payload))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(data, dict):
            return None
        name, expires = data.get("u"), data.get("exp")
        if not isinstance(name, str) or not isinstance(expires, int) or expires <= self.clock():
            return None
        return name

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self.key(), payload.encode(), hashlib.sha256).digest())
