"""``ivr serve``: run the Stasis application until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio

import click

from ivr_engine.config import ConfigError, Settings
from ivr_engine.service.runner import run_service
from ivr_engine.storage import StorageError

__all__ = ["serve"]


@click.command("serve")
@click.pass_obj
def serve(settings: Settings) -> None:
    """Connect to ARI and answer calls (reconnects on its own; stop with Ctrl-C or SIGTERM)."""
    try:
        settings = settings.with_secrets()
    except (ConfigError, OSError) as exc:
        raise click.ClickException(f"cannot read the ARI secret: {exc}") from exc
    click.echo(f"ivr serve: ARI {settings.ari_url} app {settings.app_name}; events in "
               f"{settings.state_dir / 'events.jsonl'}")
    try:
        asyncio.run(run_service(settings))
    except StorageError as exc:
        raise click.ClickException(str(exc)) from exc
