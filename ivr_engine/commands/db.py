"""``ivr db``: create or upgrade the schema and load the demo data."""

from __future__ import annotations

import click
from sqlalchemy.exc import SQLAlchemyError

from ivr_engine.commands.guards import require_database
from ivr_engine.config import Settings
from ivr_engine.storage import Database, StorageError
from ivr_engine.storage.database import describe_error, is_outage, redact_url
from ivr_engine.storage.migrate import current_revision, head_revision, upgrade
from ivr_engine.storage.pins import PinKeyError, PinKeyFile, Pins
from ivr_engine.storage.seed import seed

__all__ = ["db_group"]


@click.group("db")
def db_group() -> None:
    """Database schema (alembic migrations) and demo data. URL: settings database_url, else SQLite."""


@db_group.command("init")
@click.pass_obj
def init_command(settings: Settings) -> None:
    """Create the schema, or upgrade it to the latest revision; safe to re-run."""
    _upgrade(settings, "head")


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target alembic revision.")
@click.pass_obj
def upgrade_command(settings: Settings, revision: str) -> None:
    """Apply pending migrations up to REVISION."""
    _upgrade(settings, revision)


@db_group.command("seed")
@click.pass_obj
def seed_command(settings: Settings) -> None:
    """Load the deterministic demo customers, accounts, orders and loyalty cards (idempotent)."""
    require_database(settings)
    database = _open(settings)
    try:
        if current_revision(database) != head_revision():
            raise click.ClickException(
                f"{redact_url(database.url)} is not at the latest schema: run `ivr db init` first"
            )
        pins = Pins(PinKeyFile(settings.pin_key_path))
        report = database.call(lambda session: seed(session, pins))
    except (StorageError, PinKeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    except SQLAlchemyError as exc:
        what = "cannot reach the database" if is_outage(exc) else "seeding failed"
        raise click.ClickException(f"{what}: {describe_error(exc)}") from exc
    finally:
        database.dispose()
    if report.total:
        click.echo(
            f"seeded {report.customers} customer(s), {report.phones} phone number(s), "
            f"{report.accounts} account(s), {report.orders} order(s), {report.cards} loyalty card(s)"
        )
    else:
        click.echo("demo data already present; nothing added")


def _open(settings: Settings) -> Database:
    try:
        return Database(settings.db_url)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from exc


def _upgrade(settings: Settings, revision: str) -> None:
    database = _open(settings)
    try:
        before = current_revision(database)
        reached = upgrade(database, revision)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.dispose()
    where = redact_url(database.url)
    if before == reached:
        click.echo(f"{where}: already at revision {reached}")
    else:
        click.echo(f"{where}: upgraded from {before or 'empty'} to revision {reached}")
