"""Databases for the SQL store tests: a migrated SQLite file and a migrated, throwaway PostgreSQL schema.

Built on ``sqlite_url`` / ``postgres_url`` of tests/conftest.py (a fresh file or schema per test, the
schema dropped afterwards); the PostgreSQL case is marked ``postgres`` and skips when the server is
unreachable (fails under ``CI=true``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from acd.sql_store import SqlStore
from ivr_engine.storage import Database
from ivr_engine.storage.migrate import upgrade


def migrated(url: str) -> str:
    """``url`` after what `ivr db init` does: the schema at the head revision."""
    database = Database(url)
    try:
        upgrade(database)
    finally:
        database.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def acd_db_url(request: pytest.FixtureRequest) -> str:
    """An empty, migrated database, on SQLite and on PostgreSQL."""
    url = request.getfixturevalue(f"{request.param}_url")
    assert isinstance(url, str)
    return migrated(url)


@pytest.fixture
def postgres_acd_url(postgres_url: str) -> str:
    """An empty, migrated PostgreSQL schema (for the tests of PostgreSQL's locks)."""
    return migrated(postgres_url)


@pytest.fixture
def sql_store(acd_db_url: str) -> Iterator[SqlStore]:
    store = SqlStore(acd_db_url)
    try:
        yield store
    finally:
        store.close()
