"""The ``ivr`` command line: operators, flow designers and testers start here.

Each command group lives in ``ivr_engine/commands/<group>.py`` and is imported only when it runs
(``ivr_engine.commands.COMMANDS``), so ``ivr --help`` answers without loading the service.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ivr_engine import __version__
from ivr_engine.commands import COMMANDS, LazyGroup
from ivr_engine.config import ConfigError, load_settings


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="ivr")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Settings file (YAML); must exist. Default: $IVR_CONFIG, else ivr.yaml in the project root.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="State folder (configs, logs, SQLite, secrets). Default: .lab in the project root.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
@click.pass_context
def main(ctx: click.Context, config_file: Path | None, state_dir: Path | None, verbose: bool) -> None:
    """ivr-engine: YAML IVR flows and a skills-based ACD for Asterisk."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        ctx.obj = load_settings(config_file, state_dir=state_dir)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


if __name__ == "__main__":
    main()
