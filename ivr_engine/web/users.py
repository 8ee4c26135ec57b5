"""Web users: agents and supervisors who sign in to the desktop, stored as password hashes in a file.

The store is ``<state_dir>/web-accounts.yaml`` (mode 0600, never committed)::

    session_key: <random, signs the session cookies>
    users:
      alice: {role: agent, agent_id: "1001", password: "scrypt$<salt hex>$<hash hex>"}

Passwords are hashed with scrypt (stdlib ``hashlib.scrypt``, n=2**14, r=8, p=1) and a per-user salt.
There is no default user: ``ivr web user add`` creates them, and the lab calls :func:`create_lab_users`,
which also writes the plain lab passwords to ``<state_dir>/web-users.yaml`` (0600) for the tester.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import yaml

from ivr_engine.privatefiles import write_private
from ivr_engine.web.errors import UserError, UserFileError

__all__ = [
    "ACCOUNTS_FILE",
    "LAB_AGENTS",
    "LAB_PASSWORDS_FILE",
    "Role",
    "UserFile",
    "UserStore",
    "WebUser",
    "create_lab_users",
    "hash_password",
    "verify_password",
]

ACCOUNTS_FILE = "web-accounts.yaml"
LAB_PASSWORDS_FILE = "web-users.yaml"
LAB_AGENTS = ("1001", "1002", "1003")
MIN_PASSWORD_LENGTH = 8
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_AGENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class WebUser:
    """A person who may sign in; an agent user is tied to one ACD agent id."""

    name: str
    role: Role
    agent_id: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise UserError(
                f"user name {self.name!r} must be 1-32 lowercase letters, digits, '.', '_' or '-'"
            )
        if self.role is Role.AGENT and not self.agent_id:
            raise UserError(f"agent user {self.name!r} needs an agent id (--agent-id)")
        if self.agent_id is not None and not _AGENT_ID.match(self.agent_id):
            raise UserError(f"agent id {self.agent_id!r} must be 1-64 letters, digits, '.', '_' or '-'")

    def may_act_for(self, agent_id: str) -> bool:
        """Supervisors may act for every agent; an agent only for themselves."""
        return self.role is Role.SUPERVISOR or self.agent_id == agent_id


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    scheme, _, rest = stored.partition("$")
    salt_hex, _, digest_hex = rest.partition("$")
    if scheme != "scrypt" or not salt_hex or not digest_hex:
        return False
    try:
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return hmac.compare_digest(digest, expected)


class UserStore(Protocol):
    """What the web routes need from wherever users are kept."""

    def get(self, name: str) -> WebUser | None: ...

    def authenticate(self, name: str, password: str) -> WebUser | None:
        """The user when ``password`` is theirs, else None (unknown name and wrong password alike).

        Slow on purpose (scrypt) and called from a worker thread, concurrently with ``get``.
        """
        ...

    def session_key(self) -> bytes:
        """The secret that signs session cookies (stable across restarts)."""
        ...


class UserFile:
    """A :class:`UserStore` over ``<state_dir>/web-accounts.yaml``; re-read when the file changes.

    Thread-safe: the web routes check passwords in worker threads while the event loop reads users.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._stamp: float | None = None
        self._users: dict[str, tuple[WebUser, str]] = {}
        self._key = ""

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> UserFile:
        return cls(state_dir / ACCOUNTS_FILE)

    def get(self, name: str) -> WebUser | None:
        entry = self._load().get(name)
        return None if entry is None else entry[0]

    def users(self) -> list[WebUser]:
        return [user for user, _ in sorted(self._load().values(), key=lambda e: e[0].name)]

    def authenticate(self, name: str, password: str) -> WebUser | None:
        entry = self._load().get(name)
        if entry is None:
            verify_password(password, _DUMMY_HASH)  # same cost as a real check: names do not leak
            return None
        return entry[0] if verify_password(password, entry[1]) else None

    def session_key(self) -> bytes:
        with self._lock:
            self._load()
            if not self._key:
                self._key = secrets.token_urlsafe(32)
                self._save(self._users)
            return self._key.encode()

    def add(self, user: WebUser, password: str, *, replace: bool = False) -> None:
        """Store ``user`` with ``password`` hashed; raises :class:`UserError` for a duplicate or weak one."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
        users = dict(self._load())
        if user.name in users and not replace:
            raise UserError(f"user {user.name!r} already exists in {self.path}")
        users[user.name] = (user, hash_password(password))
        self._save(users)

    def remove(self, name: str) -> None:
        users = dict(self._load())
        if users.pop(name, None) is None:
            raise UserError(f"no user {name!r} in {self.path}")
        self._save(users)

    def _load(self) -> dict[str, tuple[WebUser, str]]:
        with self._lock:
            return self._load_locked()

    def _load_locked(self) -> dict[str, tuple[WebUser, str]]:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return self._users
        except OSError as exc:
            raise UserFileError(f"{self.path}: cannot read web users: {exc.strerror or exc}") from exc
        if stamp == self._stamp:
            return self._users
        try:
            data = yaml.safe_load(self.path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise UserFileError(f"{self.path}: cannot read web users: {exc}") from exc
        self._users, self._key = _parse(self.path, data)
        self._stamp = stamp
        return self._users

    def _save(self, users: dict[str, tuple[WebUser, str]]) -> None:
        with self._lock:
            self._save_locked(users)

    def _save_locked(self, users: dict[str, tuple[WebUser, str]]) -> None:
        data = {
            "session_key": self._key or secrets.token_urlsafe(32),
            "users": {
                user.name: {"role": user.role.value, "agent_id": user.agent_id, "password": hashed}
                for user, hashed in users.values()
            },
        }
        _write_private(self.path, yaml.safe_dump(data, sort_keys=True))
        self._stamp = None
        self._load()


def _parse(path: Path, data: object) -> tuple[dict[str, tuple[WebUser, str]], str]:
    if not isinstance(data, dict):
        raise UserFileError(f"{path}: expected a mapping with 'users'")
    key = data.get("session_key") or ""
    raw_users = data.get("users") or {}
    if not isinstance(key, str) or not isinstance(raw_users, dict):
        raise UserFileError(f"{path}: 'session_key' must be text and 'users' a mapping")
    users: dict[str, tuple[WebUser, str]] = {}
    for name, entry in raw_users.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("password"), str):
            raise UserFileError(f"{path}: user {name!r} needs a mapping with a password hash")
        try:
            agent_id = entry.get("agent_id")
            role = Role(str(entry.get("role")))
            user = WebUser(str(name), role, None if agent_id is None else str(agent_id))
        except (ValueError, UserError) as exc:
            raise UserFileError(f"{path}: user {name!r}: {exc}") from exc
        users[user.name] = (user, entry["password"])
    return users, key


def _write_private(path: Path, text: str) -> None:
    try:
        write_private(path, text)
    except OSError as exc:
        raise UserFileError(f"{path}: cannot write web users: {exc.strerror or exc}") from exc


_DUMMY_HASH = hash_password(secrets.token_hex(8))


def create_lab_users(state_dir: Path, agent_ids: Iterable[str] = LAB_AGENTS) -> Path:
    """Create (or reset) the lab's web users with fresh random passwords; returns the passwords file.

    One supervisor ``supervisor`` and an agent user ``agent<ID>`` per agent id. The plain passwords go
    to ``<state_dir>/web-users.yaml`` (0600) so the tester and the lab tests can sign in.
    """
    store = UserFile.in_state_dir(state_dir)
    plain: dict[str, dict[str, str | None]] = {}
    wanted = [WebUser("supervisor", Role.SUPERVISOR)] + [
        WebUser(f"agent{agent_id}".lower(), Role.AGENT, agent_id) for agent_id in agent_ids
    ]
    for user in wanted:
        password = secrets.token_urlsafe(12)
        store.add(user, password, replace=True)
        plain[user.name] = {"password": password, "role": user.role.value, "agent_id": user.agent_id}
    target = state_dir / LAB_PASSWORDS_FILE
    _write_private(target, yaml.safe_dump({"users": plain}, sort_keys=True))
    return target
