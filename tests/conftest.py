"""Shared fixtures: a fresh database per test, on SQLite and on PostgreSQL.

``db_url`` is parametrised over a SQLite file in ``tmp_path`` and a throwaway schema in the PostgreSQL at
127.0.0.1:5432 (database ``test``, trust auth; override with ``IVR_TEST_PG_URL``). The PostgreSQL case is
marked ``postgres``: it skips with a reason when the server is unreachable, and fails under ``CI=true``.
``db_settings`` / ``migrated_settings`` / ``seeded_settings`` build on it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ivr_engine.config import Settings
from ivr_engine.storage import Database
from ivr_engine.storage.migrate import upgrade
from ivr_engine.storage.pins import PinKeyFile, Pins
from ivr_engine.storage.seed import seed

PG_ADMIN_URL = os.environ.get("IVR_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The PostgreSQL server's URL once it answers; skip (fail under CI=true) when it does not."""
    engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        detail = str(exc.orig or exc).strip().splitlines()[0]
        reason = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {detail}"
        if _in_ci():
            pytest.fail(f"{reason} (CI=true: the PostgreSQL run must not skip)")
        pytest.skip(reason)
    finally:
        engine.dispose()
    return PG_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A URL whose connections use a fresh, uniquely named schema; the schema is dropped afterwards."""
    schema = f"ivr_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ivr.db'}"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database (no schema yet), once on SQLite and once on PostgreSQL."""
    url = request.getfixturevalue(f"{request.param}_url")
    assert isinstance(url, str)
    return url


@pytest.fixture
def db_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path / "state", database_url=db_url)


@pytest.fixture
def pins(tmp_path: Path) -> Pins:
    """PIN hashing under the test's own key file: the one ``db_settings``' state folder holds, so
    ``seed(session, pins)`` and the stores opened with those settings share one key."""
    return Pins(PinKeyFile(Settings(state_dir=tmp_path / "state").pin_key_path))


@pytest.fixture
def migrated_settings(db_settings: Settings) -> Settings:
    """Settings whose database is at the head revision, without data."""
    database = Database(db_settings.db_url)
    try:
        upgrade(database)
    finally:
        database.dispose()
    return db_settings


@pytest.fixture
def seeded_settings(migrated_settings: Settings, pins: Pins) -> Settings:
    """Settings whose database holds the demo data (``ivr db seed``)."""
    database = Database(migrated_settings.db_url)
    try:
        database.call(lambda session: seed(session, pins))
    finally:
        database.dispose()
    return migrated_settings
