"""PINs: a keyed HMAC-SHA256 under a per-installation secret key; the PIN itself is never stored.

Stored form: ``hmac-sha256$<key id>$<salt hex>$<mac hex>``, the MAC of salt + PIN under the key in the
installation's PIN key file (``Settings.pin_key_path``: ``<state_dir>/pin.key``, 0600, 32 random bytes
as hex; never in the database or a log). The key id (8 hex digits derived from the key, not the key)
tells a hash made with another key from a wrong PIN: such a check is a ``PinKeyError`` naming the file.

Why not a slow hash: PINs have 4-6 digits, so 10^4-10^6 candidates; a stolen database falls to an
offline search whatever the per-guess cost a live call can afford (scrypt's 37 ms a check is 6 minutes
of one core for 10^4 candidates). What stops that search is a secret the database does not hold (the
key); what stops guessing on the phone is the flow's attempt limit. See docs/design.md, Storage.

Hashes of the older form ``scrypt$n$r$p$salt$hash`` still verify; a successful check returns the same
PIN in the current form (``PinCheck.rehashed``), which the account lookup stores in its place.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ivr_engine.config import ConfigError
from ivr_engine.privatefiles import PRIVATE_FILE

__all__ = ["PinCheck", "PinKey", "PinKeyError", "PinKeyFile", "Pins"]

_SCHEME = "hmac-sha256"
_LEGACY = "scrypt"
_KEY_BYTES = 32
_SALT_BYTES = 16
_ID_LABEL = b"ivr-engine pin key id"


class PinKeyError(ConfigError):
    """The PIN key file is unreadable or malformed, or a stored hash was made with another key."""


@dataclass(frozen=True)
class PinKey:
    """The installation's secret; ``key_id`` names it in stored hashes without revealing it."""

    secret: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        return hmac.new(self.secret, _ID_LABEL, hashlib.sha256).hexdigest()[:8]

    @classmethod
    def generate(cls) -> PinKey:
        return cls(secrets.token_bytes(_KEY_BYTES))


class PinKeyFile:
    """The key file at ``path``: read once (thread-safe), created 0600 with a new key if it is missing.

    A missing file is a new installation's first PIN; a file that exists but cannot be read or parsed is a
    ``PinKeyError`` (never replaced: that would orphan every hash made with it).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: PinKey | None = None
        self._lock = threading.Lock()

    def key(self) -> PinKey:
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = self._load_or_create()
        return self._key

    def _load_or_create(self) -> PinKey:
        try:
            return self._read()
        except FileNotFoundError:
            pass
        key = PinKey.generate()
        # Written whole to a file of our own, then linked to its name: another process never reads it half
        # written, and if one made it first (the link fails) its key is the one kept.
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(key.secret.hex() + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.link(temporary, self.path)
        except FileExistsError:  # another process made it first: use theirs
            return self._read_or_explain()
        except OSError as exc:
            raise PinKeyError(f"cannot create PIN key file {self.path}: {exc.strerror or exc}") from None
        finally:
            temporary.unlink(missing_ok=True)
        return key

    def _read_or_explain(self) -> PinKey:
        try:
            return self._read()
        except FileNotFoundError:
            raise PinKeyError(f"PIN key file {self.path} vanished while it was being read") from None

    def _read(self) -> PinKey:
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise PinKeyError(f"cannot read PIN key file {self.path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            text = ""  # malformed, below
        try:
            secret = bytes.fromhex(text.strip())
        except ValueError:
            secret = b""
        if len(secret) != _KEY_BYTES:
            raise PinKeyError(
                f"PIN key file {self.path} is malformed: expected {_KEY_BYTES * 2} hex digits on one line"
            )
        return PinKey(secret)


@dataclass(frozen=True)
class PinCheck:
    """A PIN check's outcome; ``rehashed`` is the PIN in the current form when it was stored in an older
    one (store it instead)."""

    matched: bool
    rehashed: str | None = None


class Pins:
    """Hash and check PINs under the key of ``key_file``."""

    def __init__(self, key_file: PinKeyFile) -> None:
        self.key_file = key_file

    def hash(self, pin: str, *, salt: bytes | None = None) -> str:
        key = self.key_file.key()
        salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
        return f"{_SCHEME}${key.key_id}${salt.hex()}${_mac(key, salt, pin).hex()}"

    def check(self, pin: str, encoded: str) -> PinCheck:
        """Constant-time check of ``pin`` against a stored hash; a malformed hash never matches.

        Raises ``PinKeyError`` when the hash was made with another key (or the key file is unreadable).
        """
        scheme = encoded.split("$", 1)[0]
        if scheme == _SCHEME:
            return PinCheck(self._check_current(pin, encoded))
        if scheme == _LEGACY and _check_scrypt(pin, encoded):
            return PinCheck(True, rehashed=self.hash(pin))
        return PinCheck(False)

    def check_nothing(self, pin: str) -> None:
        """The work of a check, for an unknown account: its answer takes about as long as a wrong PIN's."""
        key = self.key_file.key()
        hmac.compare_digest(_mac(key, bytes(_SALT_BYTES), pin), bytes(32))

    def _check_current(self, pin: str, encoded: str) -> bool:
        key = self.key_file.key()
        parts = encoded.split("$")
        if len(parts) != 4:
            return False
        _scheme, key_id, salt_hex, mac_hex = parts
        try:
            salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(mac_hex)
        except ValueError:
            return False
        if key_id != key.key_id:
            raise PinKeyError(
                f"a stored PIN hash was made with PIN key {key_id}, but {self.key_file.path} holds key "
                f"{key.key_id}: restore the installation's key file (PINs cannot be checked without it)"
            )
        return hmac.compare_digest(_mac(key, salt, pin), expected)


def _mac(key: PinKey, salt: bytes, pin: str) -> bytes:
    return hmac.new(key.secret, salt + pin.encode(), hashlib.sha256).digest()


def _check_scrypt(pin: str, encoded: str) -> bool:
    """The older form ``scrypt$n$r$p$salt$hash`` (salted scrypt, no key)."""
    try:
        _scheme, n, r, p, salt_hex, key_hex = encoded.split("$")
        expected = bytes.fromhex(key_hex)
        actual = hashlib.scrypt(
            pin.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p),
            dklen=len(expected), maxmem=64 * 1024 * 1024,
        )  # fmt: skip
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
