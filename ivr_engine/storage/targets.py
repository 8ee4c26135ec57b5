"""Naming databases on the command line: a URL or a SQLite file, and whether two names are one database."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ivr_engine.storage.errors import StorageError

__all__ = ["database_url", "same_database"]

_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}


def database_url(target: str) -> str:
    """``target`` as a SQLAlchemy URL: a URL as given (``postgresql://...``), or a file path, which
    names a SQLite file (``sqlite:///<absolute path>``). Raises ``StorageError`` for neither."""
    text = target.strip()
    if not text:
        raise StorageError("an empty database name: give a file or a URL such as postgresql://...")
    if "://" in text:
        try:
            make_url(text)
        except (ArgumentError, ValueError):
            raise StorageError(f"not a database URL: {text!r}") from None
        return text
    path = Path(text).expanduser()
    if path.is_dir():
        raise StorageError(f"{path} is a folder: name a SQLite file in it, e.g. {path / 'sim.db'}")
    return f"sqlite:///{path.resolve()}"


def _key(url: URL) -> tuple[object, ...]:
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            return ("sqlite-memory", object())  # every in-memory database is a database of its own
        database = url.database
        if database.startswith("file:"):
            database = unquote(database[len("file:") :].split("?", 1)[0])
        return ("sqlite", str(Path(database).expanduser().resolve()))
    host = (url.host or "localhost").lower()
    if host in ("127.0.0.1", "::1"):
        host = "localhost"
    return (backend, host, url.port or _DEFAULT_PORTS.get(backend), url.database)


def same_database(a: str, b: str) -> bool:
    """Whether URLs ``a`` and ``b`` name the same database (driver, user and password aside): the
    same SQLite file (symlinks resolved), or the same server, port and database name."""
    return _key(make_url(a)) == _key(make_url(b))
