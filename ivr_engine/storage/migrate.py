"""Bring a database's schema to the head alembic revision, programmatically (no alembic.ini)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from ivr_engine.storage.database import Database, describe_error, is_outage, redact_url
from ivr_engine.storage.errors import DatabaseUnavailable, MigrationError

__all__ = ["current_revision", "head_revision", "require_head", "upgrade"]

if logging.getLogger("alembic").level == logging.NOTSET:  # its per-step INFO chatter is CLI noise
    logging.getLogger("alembic").setLevel(logging.WARNING)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise MigrationError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(database: Database) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    try:
        with database.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise _wrap(database, exc) from exc


def require_head(database: Database) -> None:
    """Raise ``MigrationError`` unless the schema is at the head revision (``DatabaseUnavailable`` when
    the database cannot be reached): a service on an old schema would lose its writes."""
    current, head = current_revision(database), head_revision()
    if current != head:
        at = "has no schema" if current is None else f"is at revision {current}, not {head}"
        raise MigrationError(f"the database {redact_url(database.url)} {at}: run `ivr db upgrade` first.")


def upgrade(database: Database, revision: str = "head") -> str:
    """Upgrade to ``revision`` (default head); safe to re-run. Returns the revision reached."""
    config = _config()
    try:
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise _wrap(database, exc) from exc
    reached = current_revision(database)
    if reached is None:
        raise MigrationError(f"{redact_url(database.url)}: no revision recorded after upgrade")
    return reached


def _wrap(database: Database, exc: SQLAlchemyError) -> Exception:
    where = redact_url(database.url)
    if is_outage(exc):
        return DatabaseUnavailable(f"cannot reach the database {where}: {describe_error(exc)}")
    return MigrationError(f"migrating {where} failed: {describe_error(exc)}")

