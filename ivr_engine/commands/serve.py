"""``ivr serve``: run the Stasis application until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ivr_engine import eventloop
from ivr_engine.config import ConfigError, Settings
from ivr_engine.flow.errors import FlowError
from ivr_engine.logfiles import Rotation, lean_records, log_to_file
from ivr_engine.service.runner import run_service
from ivr_engine.storage import StorageError
from ivr_engine.workorders.errors import WorkOrderError

__all__ = ["serve"]


@click.command("serve")
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the log here (created 0600, rotated by size: settings log_max_bytes, log_backups) "
    "instead of stderr.",
)
@click.pass_obj
def serve(settings: Settings, log_file: Path | None) -> None:
    """Connect to ARI and answer calls (reconnects on its own; stop with Ctrl-C or SIGTERM)."""
    try:
        settings = settings.with_secrets()
    except (ConfigError, OSError) as exc:
        raise click.ClickException(f"cannot read the ARI secret: {exc}") from exc
    try:
        rotation = Rotation.of(settings)
        eventloop.loop_factory(settings.event_loop)
    except (ConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    lean_records()
    if log_file is not None:
        try:
            log_to_file(log_file, rotation, logging.getLogger().level)
        except OSError as exc:
            raise click.ClickException(f"cannot open the log file {log_file}: {exc.strerror or exc}") from exc
    click.echo(f"ivr serve: ARI {settings.ari_url} app {settings.app_name}; events in "
               f"{settings.state_dir / 'events.jsonl'}" + (f"; log in {log_file}" if log_file else ""))
    try:
        eventloop.run(run_service(settings), settings.event_loop)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    except (WorkOrderError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None
    except FlowError as exc:
        raise click.ClickException(f"{exc}\n(run `ivr validate {settings.flows_dir}`)") from None
