"""``ivr lab up | down | status | node-up | node-down``: the local Asterisk lab on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ivr_engine.config import ConfigError, Settings
from ivr_engine.lab import LabError, control, multinode
from ivr_engine.lab.ready_made import write_ready_made
from ivr_engine.lab.topology import TopologyError
from ivr_engine.privatefiles import write_private
from ivr_engine.web import ACCOUNTS_FILE, LAB_PASSWORDS_FILE, create_lab_users

__all__ = ["lab_group"]


@click.group("lab")
def lab_group() -> None:
    """Run Asterisk and the service on loopback, in the state folder (--state-dir)."""


@lab_group.command("up")
@click.option(
    "--nodes",
    type=click.IntRange(min=1),
    default=None,
    help="Asterisk nodes, each with its own `ivr serve`; 2 or more run behind Kamailio on the SIP port "
    "and need a PostgreSQL IVR_DATABASE_URL. Default: what this lab runs, else 1.",
)
@click.option("--no-serve", is_flag=True, help="Start Asterisk only, not `ivr serve`.")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for each part.")
@click.pass_obj
def up(settings: Settings, nodes: int | None, no_serve: bool, timeout: float) -> None:
    """Start Asterisk and `ivr serve` (what is not yet running) and wait until both are ready."""
    several: multinode.MultiNodeStatus | None = None
    try:
        running = multinode.topology_of(settings)
        count = nodes if nodes is not None else (len(running.nodes) if running else 1)
        if count == 1 and running is not None:
            raise TopologyError(f"this lab runs {len(running.nodes)} nodes, not 1: `ivr lab down` first")
        if count == 1:
            click.echo(control.up(settings, serve=not no_serve, timeout_s=timeout, echo=click.echo).table())
        else:
            several = multinode.up(settings, count, serve=not no_serve, timeout_s=timeout, echo=click.echo)
            click.echo(several.table())
    except (LabError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not (settings.state_dir / LAB_PASSWORDS_FILE).exists():
        create_lab_users(settings.state_dir)
    if several is not None:
        _share_web_users(settings.state_dir, several)
    _echo_web(settings)


def _share_web_users(state_dir: Path, result: multinode.MultiNodeStatus) -> None:
    """Every node's web desktop signs in the lab's users (one passwords file, in the lab's folder)."""
    accounts = (state_dir / ACCOUNTS_FILE).read_text()
    for node in result.nodes:
        write_private(node.lab.paths.root / ACCOUNTS_FILE, accounts)


@lab_group.command("down")
@click.pass_obj
def down(settings: Settings) -> None:
    """Stop exactly the processes this lab started (Kamailio and every node too)."""
    try:
        if not multinode.down(settings, echo=click.echo):
            control.down(settings, echo=click.echo)
    except LabError as exc:
        raise click.ClickException(str(exc)) from exc


@lab_group.command("node-up")
@click.argument("node", type=click.IntRange(min=1))
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for each part.")
@click.pass_obj
def node_up(settings: Settings, node: int, timeout: float) -> None:
    """(Re)start node NODE of a multi-node lab and wait until Kamailio routes calls to it."""
    try:
        result = multinode.node_up(settings, node, timeout_s=timeout, echo=click.echo)
    except (LabError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(result.table())


@lab_group.command("node-down")
@click.argument("node", type=click.IntRange(min=1))
@click.pass_obj
def node_down(settings: Settings, node: int) -> None:
    """Stop node NODE of a multi-node lab (its `ivr serve`, then its Asterisk); the others run on."""
    try:
        multinode.node_down(settings, node, echo=click.echo)
    except LabError as exc:
        raise click.ClickException(str(exc)) from exc


@lab_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def status(settings: Settings, as_json: bool) -> None:
    """Show what runs in this lab (every node, and Kamailio's view of each) and where its logs are."""
    try:
        several = multinode.status(settings)
    except LabError as exc:
        raise click.ClickException(str(exc)) from exc
    passwords = settings.state_dir / LAB_PASSWORDS_FILE
    web = {
        "web": f"http://{settings.http_host}:{settings.http_port}",
        "lab_passwords": str(passwords) if passwords.exists() else None,
    }
    if several is not None:
        if as_json:
            click.echo(json.dumps({**several.as_json(), **web}, indent=2))
        else:
            click.echo(several.table())
            _echo_web(settings)
        return
    result = control.status(settings)
    if not as_json:
        click.echo(result.table())
        _echo_web(settings)
        return
    data = {
        "state_dir": str(result.paths.root),
        "running": result.running,
        "components": [
            {"component": c.component.value, "running": c.running, "pid": c.pid, "detail": c.detail}
            for c in result.components
        ],
        "logs": {"asterisk": str(result.paths.full_log), "serve": str(result.paths.serve_log)},
        **web,
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
