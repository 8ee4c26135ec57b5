"""Running one unit of database work for a CLI command, with every error mapped to one clear line."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from acd.records.callbacks import CallbackError
from ivr_engine.centre import centre_time
from ivr_engine.clock import clock_from_setting
from ivr_engine.commands.guards import require_database
from ivr_engine.config import Settings
from ivr_engine.storage import Database, StorageError
from ivr_engine.storage.database import describe_error, is_outage
from ivr_engine.voicemail.errors import VoicemailError
from ivr_engine.workorders.errors import WorkOrderError

__all__ = ["CentreNow", "by_option", "centre_now", "local_minute", "run_unit", "whoami"]

T = TypeVar("T")

_REFUSALS = (WorkOrderError, VoicemailError, CallbackError)
"""Domain refusals: their message is the whole story."""


@dataclass(frozen=True)
class CentreNow:
    now: datetime
    """The service clock's time (``clock_start``/``clock_anchor`` honoured)."""
    zone: tzinfo
    """The centre's zone: what "today" is and how times are printed."""


def centre_now(settings: Settings) -> CentreNow:
    try:
        zone = centre_time(settings).zone
        now = clock_from_setting(settings.clock_start, settings.clock_anchor).now()
    except ValueError as exc:  # ClockError
        raise click.ClickException(str(exc)) from exc
    return CentreNow(now, zone)


def run_unit(settings: Settings, work: Callable[[Session], T], *, what: str) -> T:
    """``work`` in one transaction on the settings' database; ``what`` names it in an outage message."""
    require_database(settings)
    database: Database | None = None
    try:
        database = Database(settings.db_url)
        return database.call(work)
    except (*_REFUSALS, StorageError) as exc:
        raise click.ClickException(str(exc)) from exc
    except SQLAlchemyError as exc:
        hint = " (has `ivr db upgrade` been run?)" if is_outage(exc) else ""
        raise click.ClickException(f"cannot reach {what}: {describe_error(exc)}{hint}") from exc
    finally:
        if database is not None:
            database.dispose()


def whoami() -> str:
    """Who runs the command (kept as who did a thing): the user name, else ``cli``."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def by_option(help_text: str) -> Callable[[Callable[..., object]], Callable[..., object]]:
    """``--by NAME``, by default the user running the command."""
    return click.option("--by", default=whoami, show_default="your user name", help=help_text)


def local_minute(value: datetime, zone: tzinfo) -> str:
    """A stored time as the centre's local date and minute, as the CLI's tables show it."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
