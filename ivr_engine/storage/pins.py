"""PIN hashing: salted scrypt, encoded as ``scrypt$n$r$p$salt$hash``; the PIN itself is never stored."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os

__all__ = ["hash_pin", "verify_nothing", "verify_pin"]

_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_SCHEME = "scrypt"


def _derive(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES, maxmem=64 * 1024 * 1024)


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    salt = os.urandom(_SALT_BYTES) if salt is None else salt
    key = _derive(pin, salt, _N, _R, _P)
    return f"{_SCHEME}${_N}${_R}${_P}${salt.hex()}${key.hex()}"


def verify_pin(pin: str, encoded: str) -> bool:
    """Constant-time check of ``pin`` against a stored hash; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt_hex, key_hex = encoded.split("$")
        if scheme != _SCHEME:
            return False
        expected = bytes.fromhex(key_hex)
        actual = _derive(pin, bytes.fromhex(salt_hex), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def _dummy_hash() -> str:
    return hash_pin("0000", salt=b"\0" * _SALT_BYTES)


def verify_nothing(pin: str) -> bool:
    """Spend the same time as ``verify_pin`` for an unknown account, so timing does not reveal it."""
    verify_pin(pin, _dummy_hash())
    return False
