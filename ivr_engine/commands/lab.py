"""``ivr lab up | down | status``: the local Asterisk lab on loopback."""

from __future__ import annotations

import json

import click

from ivr_engine.config import ConfigError, Settings
from ivr_engine.lab import LabError, control
from ivr_engine.lab.ready_made import write_ready_made
from ivr_engine.web import LAB_PASSWORDS_FILE, create_lab_users

__all__ = ["lab_group"]


@click.group("lab")
def lab_group() -> None:
    """Run Asterisk and the service on loopback, in the state folder (--state-dir)."""


@lab_group.command("up")
@click.option("--no-serve", is_flag=True, help="Start Asterisk only, not `ivr serve`.")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for each part.")
@click.pass_obj
def up(settings: Settings, no_serve: bool, timeout: float) -> None:
    """Start Asterisk and `ivr serve` (what is not yet running) and wait until both are ready."""
    try:
        result = control.up(settings, serve=not no_serve, timeout_s=timeout, echo=click.echo)
    except (LabError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not (settings.state_dir / LAB_PASSWORDS_FILE).exists():
        create_lab_users(settings.state_dir)
    click.echo(result.table())
    _echo_web(settings)


@lab_group.command("down")
@click.pass_obj
def down(settings: Settings) -> None:
    """Stop exactly the processes this lab started."""
    try:
        control.down(settings, echo=click.echo)
    except LabError as exc:
        raise click.ClickException(str(exc)) from exc


@lab_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def status(settings: Settings, as_json: bool) -> None:
    """Show what runs in this lab and where its logs are."""
    result = control.status(settings)
    if not as_json:
        click.echo(result.table())
        _echo_web(settings)
        return
    passwords = settings.state_dir / LAB_PASSWORDS_FILE
    data = {
        "state_dir": str(result.paths.root),
        "running": result.running,
        "components": [
            {"component": c.component.value, "running": c.running, "pid": c.pid, "detail": c.detail}
            for c in result.components
        ],
        "logs": {"asterisk": str(result.paths.full_log), "serve": str(result.paths.serve_log)},
        "web": f"http://{settings.http_host}:{settings.http_port}",
        "lab_passwords": str(passwords) if passwords.exists() else None,
    }
    click.echo(json.dumps(data, indent=2))


def _echo_web(settings: Settings) -> None:
    passwords = settings.state_dir / LAB_PASSWORDS_FILE
    if passwords.exists():
        click.echo(f"web: http://{settings.http_host}:{settings.http_port}/agent and /wallboard; "
                   f"lab users and passwords in {passwords}")


@lab_group.command("scenarios")
def scenarios() -> None:
    """Rewrite the hand-runnable SIPp scenarios in sip-lab/scenarios/<name>/ from the templates."""
    for path in write_ready_made():
        click.echo(f"wrote {path}")
