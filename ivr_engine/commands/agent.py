"""``ivr agent``: drive agents of the running service (login, pause, ready, logout), list and watch them."""

from __future__ import annotations

import json

import click

from ivr_engine.commands.units import by_option
from ivr_engine.config import Settings
from ivr_engine.control import AgentView, ControlClient
from ivr_engine.control.cli import run_client
from ivr_engine.control.tables import agents_table
from ivr_engine.screenpop import format_screen_pop

__all__ = ["agent_group"]


def _changed(agent: AgentView) -> str:
    reason = f" ({agent.pause_reason})" if agent.pause_reason else ""
    return f"agent {agent.id} ({agent.name}): {agent.state.value}{reason}"


@click.group("agent")
def agent_group() -> None:
    """Agent control on the running service (see `ivr serve`)."""


@agent_group.command("login")
@click.argument("agent_id")
@click.pass_obj
def login(settings: Settings, agent_id: str) -> None:
    """Log AGENT_ID in; they become ready and may be offered calls at once."""
    click.echo(_changed(run_client(settings, lambda c: c.login(agent_id))))


@agent_group.command("logout")
@click.argument("agent_id")
@click.pass_obj
def logout(settings: Settings, agent_id: str) -> None:
    """Log AGENT_ID out (refused while on a call)."""
    click.echo(_changed(run_client(settings, lambda c: c.logout(agent_id))))


@agent_group.command("pause")
@click.argument("agent_id")
@click.option("--reason", required=True, help="Reason code, e.g. lunch, training, meeting.")
@click.pass_obj
def pause(settings: Settings, agent_id: str, reason: str) -> None:
    """Pause AGENT_ID with a reason: no calls are offered until `ivr agent ready`."""
    click.echo(_changed(run_client(settings, lambda c: c.pause(agent_id, reason))))


@agent_group.command("ready")
@click.argument("agent_id")
@click.pass_obj
def ready(settings: Settings, agent_id: str) -> None:
    """Make AGENT_ID ready (from paused, or ending wrap-up early)."""
    click.echo(_changed(run_client(settings, lambda c: c.ready(agent_id))))


@agent_group.command("monitor")
@click.argument("agent_id")
@click.option("--supervisor", "phone", required=True, metavar="PHONE",
              help="The phone to ring: an endpoint (PJSIP/1001) or its number (1001).")
@click.option("--mode", type=click.Choice(["listen", "whisper", "barge"]), default="listen",
              show_default=True,
              help="listen: hear caller and agent; whisper: also speak to the agent only; barge: join.")
@by_option("The supervisor's web user name (role supervisor): only supervisors may listen in.")
@click.option("--json", "as_json", is_flag=True, help="Print the session as JSON.")
@click.pass_obj
def monitor(settings: Settings, agent_id: str, phone: str, mode: str, by: str, as_json: bool) -> None:
    """Listen to, whisper to or barge into AGENT_ID's live call: the supervisor's PHONE rings, and
    once answered hears the call (listen, whisper) or joins it (barge). Hang up the phone to stop."""
    session = run_client(settings, lambda c: c.monitor(agent_id, supervisor=phone, mode=mode, by=by))
    if as_json:
        click.echo(json.dumps(session))
        return
    click.echo(f"ringing {session['supervisor']} to {session['mode']} on agent {session['agent_id']}'s call "
               f"{session['call_id']} (session {session['id']}); hang up to stop")


@agent_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_agents(settings: Settings, as_json: bool) -> None:
    """Every agent with state, time in state, calls taken and skills."""
    agents = run_client(settings, lambda c: c.agents())
    if as_json:
        click.echo(json.dumps([agent.to_json() for agent in agents], indent=2))
    else:
        click.echo(agents_table(agents))


@agent_group.command("watch")
@click.argument("agent_id")
@click.option("--count", type=click.IntRange(min=0), default=0, show_default=True,
              help="Stop after this many screen-pops (0: until Ctrl-C).")
@click.pass_obj
def watch(settings: Settings, agent_id: str, count: int) -> None:
    """Print each screen-pop for AGENT_ID as their calls are answered."""

    async def work(client: ControlClient) -> None:
        agent = await client.agent(agent_id)  # an unknown agent fails here, before waiting
        click.echo(f"watching agent {agent.id} ({agent.name}); screen-pops appear as calls are answered")
        shown = 0
        async for pop in client.screen_pops(agent_id):
            click.echo(format_screen_pop(pop) + "\n")
            shown += 1
            if count and shown >= count:
                return

    try:
        run_client(settings, work)
    except KeyboardInterrupt:
        click.echo("stopped")
