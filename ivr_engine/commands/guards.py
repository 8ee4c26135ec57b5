"""Checks commands make before they work: the database exists, a filter names something that exists.

Read-only commands (``ivr calls``, ``ivr stats``, ``ivr sipp generate``) must not create a database:
opening a SQLite URL would create the file (and its folder) wherever the settings point.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click

import acd
from ivr_engine.config import Settings

__all__ = ["known_agents", "known_flows", "known_queues", "require_database", "require_known", "sqlite_file"]


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and for an in-memory SQLite)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # Database() reports the malformed URL
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def require_database(settings: Settings) -> None:
    """Refuse to go on when the settings' SQLite file does not exist (a server database is not checked)."""
    path = sqlite_file(settings.db_url)
    if path is not None and not path.is_file():
        raise click.ClickException(f"no database at {path}: run `ivr db init` first")


def require_known(option: str, value: str, known: Iterable[str], where: str) -> None:
    """A ``--queue``/``--flow``/``--agent`` filter must name something that exists (else a usage error)."""
    names = sorted(set(known))
    if value not in names:
        raise click.BadParameter(
            f"no {option.lstrip('-')} {value!r} in {where} (known: {', '.join(names) or 'none'})",
            param_hint=option,
        )


def known_flows(settings: Settings) -> list[str]:
    """The names of the flows in ``settings.flows_dir`` (``flow:`` or the file stem), broken files too."""
    from ivr_engine.flow.library import flow_files
    from ivr_engine.flow.loader import parse_flow

    if not settings.flows_dir.is_dir():
        raise click.ClickException(f"flows folder {settings.flows_dir} does not exist (setting flows_dir)")
    names = []
    for file in flow_files([settings.flows_dir]):
        parsed = parse_flow(file)
        names.append(parsed.flow.name if parsed.flow is not None else file.stem)
    return names


def _acd_config(settings: Settings) -> acd.AcdConfig:
    try:
        return acd.load_acd_config(settings.agents_file)
    except acd.AcdConfigError as exc:
        raise click.ClickException(f"cannot check the filter: {exc}") from None


def known_queues(settings: Settings) -> list[str]:
    """The queues of ``settings.agents_file`` (acd.yaml)."""
    return [queue.name for queue in _acd_config(settings).queues]


def known_agents(settings: Settings) -> list[str]:
    """The agent ids of ``settings.agents_file`` (acd.yaml)."""
    return [agent.id for agent in _acd_config(settings).agents]
