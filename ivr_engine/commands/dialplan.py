"""``ivr dialplan render``: write the Asterisk configs rendered from the settings."""

from __future__ import annotations

from pathlib import Path

import click

from ivr_engine.config import Settings
from ivr_engine.lab import LabError
from ivr_engine.lab.render import write_configs

__all__ = ["dialplan_group"]


@click.group("dialplan")
def dialplan_group() -> None:
    """Asterisk configuration rendered from dialplans/*.j2."""


@dialplan_group.command("render")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write asterisk.conf, pjsip.conf, extensions.conf, ... into.",
)
@click.pass_obj
def render(settings: Settings, out_dir: Path) -> None:
    """Render every config; directories in asterisk.conf point into the state folder."""
    try:
        written = write_configs(settings.with_secrets(), out_dir)
    except (LabError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {len(written)} configs to {out_dir}: {', '.join(p.name for p in written)}")
