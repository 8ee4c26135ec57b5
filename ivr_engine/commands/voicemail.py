"""``ivr voicemail``: the voicemail inbox: list, show (with the IVR path before the message), play,
close, or turn a message into a callback or a work order."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import tzinfo
from pathlib import Path

import click

from ivr_engine.commands.tables import print_table
from ivr_engine.commands.units import by_option, centre_now, local_minute, run_unit
from ivr_engine.config import Settings
from ivr_engine.voicemail import inbox
from ivr_engine.voicemail.model import VoicemailItem, VoicemailState
from ivr_engine.workorders.errors import WorkOrderError
from ivr_engine.workorders.model import Urgency
from ivr_engine.workorders.policy import load_policy

__all__ = ["voicemail_group"]

_WHAT = "the voicemail inbox"
_BY = by_option("Who does it (kept with the voicemail).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.group("voicemail")
def voicemail_group() -> None:
    """The voicemail inbox: list, show, play, close, callback, ticket."""


@voicemail_group.command("list")
@click.option("--mailbox", default=None, help="Only this mailbox (e.g. general).")
@click.option("--state", type=click.Choice([s.value for s in VoicemailState]), default=None,
              help="Only new, heard or closed messages (default: every message not closed).")
@click.option("--all", "include_closed", is_flag=True, help="Closed messages too.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1, max=10_000))
@_JSON
@click.pass_obj
def list_command(settings: Settings, mailbox: str | None, state: str | None, include_closed: bool, limit: int,
                 as_json: bool) -> None:
    """Voicemails, newest first: caller, flow, time, length and state."""
    zone = centre_now(settings).zone
    which = inbox.InboxFilter(mailbox=mailbox, state=VoicemailState(state) if state else None,
                              include_closed=include_closed, limit=limit)
    items = run_unit(settings, lambda s: inbox.list_voicemails(s, which), what=_WHAT)
    if as_json:
        click.echo(json.dumps([i.to_json() for i in items], indent=2))
        return
    if not items:
        click.echo("no voicemails")
        return
    rows = [[str(i.id), local_minute(i.created, zone), _caller(i), i.mailbox, i.flow or "-",
             f"{i.duration:.1f}s", i.state.value, i.work_order or ""] for i in items]
    headers = ["ID", "LEFT", "CALLER", "MAILBOX", "FLOW", "LENGTH", "STATE", "WORK ORDER"]
    print_table(headers, rows, right={0, 5})


@voicemail_group.command("show")
@click.argument("voicemail_id", type=int)
@_JSON
@click.pass_obj
def show_command(settings: Settings, voicemail_id: int, as_json: bool) -> None:
    """One voicemail: who, when, its file and the IVR path the caller took before it."""
    zone = centre_now(settings).zone
    item = run_unit(settings, lambda s: inbox.detail(s, voicemail_id), what=_WHAT)
    if as_json:
        click.echo(json.dumps(item.to_json(), indent=2))
        return
    _print(item, zone)
    if item.path:
        click.echo("")
        print_table(["FLOW", "NODE", "INPUT", "OUTCOME"],
                    [[p.flow, p.node, p.input or "", p.outcome] for p in item.path])


@voicemail_group.command("play")
@click.argument("voicemail_id", type=int)
@click.option("--play", "out_loud", is_flag=True,
              help="Play it on this machine's speaker (sox's `play`) instead of only printing its file.")
@click.pass_obj
def play_command(settings: Settings, voicemail_id: int, out_loud: bool) -> None:
    """Print the message's audio file (and mark it heard); --play plays it here."""
    item = run_unit(settings, lambda s: inbox.mark_heard(s, voicemail_id), what=_WHAT)
    path = Path(item.file_path)
    if not path.is_file():
        raise click.ClickException(f"voicemail {voicemail_id}'s file {path} is missing")
    click.echo(str(path))
    if out_loud:
        player = shutil.which("play")
        if player is None:
            raise click.ClickException("`play` (sox) is not installed: run sip-lab/install")
        done = subprocess.run([player, "-q", str(path)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise click.ClickException(f"could not play it here: {done.stderr.strip() or done.returncode}")


@voicemail_group.command("close")
@click.argument("voicemail_id", type=int)
@_BY
@_JSON
@click.pass_obj
def close_command(settings: Settings, voicemail_id: int, by: str, as_json: bool) -> None:
    """Close a message that needs nothing more."""
    now = centre_now(settings)
    item = run_unit(settings, lambda s: inbox.close(s, voicemail_id, by, now.now), what=_WHAT)
    _done(item, now.zone, as_json, "closed")


@voicemail_group.command("callback")
@click.argument("voicemail_id", type=int)
@click.option("--queue", default="general", show_default=True, help="The queue whose agents call back.")
@_BY
@_JSON
@click.pass_obj
def callback_command(settings: Settings, voicemail_id: int, queue: str, by: str, as_json: bool) -> None:
    """Book a call back to the caller (a pending callback) and close the message."""
    now = centre_now(settings)
    item = run_unit(settings, lambda s: inbox.to_callback(s, voicemail_id, queue, by, now.now), what=_WHAT)
    _done(item, now.zone, as_json, f"callback booked in {queue} for {item.caller}; closed")


@voicemail_group.command("ticket")
@click.argument("voicemail_id", type=int)
@click.option("--type", "kind", required=True, help="One of workorders.yaml's types (e.g. complaint).")
@click.option("--description", required=True, help="What the caller asks for.")
@click.option("--urgency", type=click.Choice([u.value for u in Urgency]), default="normal", show_default=True)
@_BY
@_JSON
@click.pass_obj
def ticket_command(settings: Settings, voicemail_id: int, kind: str, description: str, urgency: str, by: str,
                   as_json: bool) -> None:
    """Turn the message into a work order for its caller and close it."""
    try:
        policy = load_policy(settings.workorders_file)
    except WorkOrderError as exc:
        raise click.ClickException(str(exc)) from exc
    now = centre_now(settings)
    item, order = run_unit(settings, lambda s: inbox.to_work_order(
        s, voicemail_id, policy, kind=kind, description=description, by=by, now=now.now, zone=now.zone,
        urgency=Urgency(urgency)), what=_WHAT)  # fmt: skip
    if as_json:
        click.echo(json.dumps({**item.to_json(), "work_order": order.to_json(now.now)}, indent=2))
        return
    _done(item, now.zone, False, f"work order {order.serial} logged; closed")


def _caller(item: VoicemailItem) -> str:
    number = item.caller or "withheld"
    return f"{item.customer_name} ({number})" if item.customer_name else number


def _print(item: VoicemailItem, zone: tzinfo) -> None:
    click.echo(f"voicemail {item.id}: {_caller(item)}, mailbox {item.mailbox}, flow {item.flow or '-'}")
    left = local_minute(item.created, zone)
    click.echo(f"left {left}, {item.duration:.1f}s, {item.state.value}; call {item.call_id}")
    click.echo(f"file: {item.file_path}")
    if item.closed is not None:
        extra = f" as {item.work_order}" if item.work_order else ""
        click.echo(f"closed {local_minute(item.closed, zone)} by {item.closed_by}: {item.outcome}{extra}")


def _done(item: VoicemailItem, zone: tzinfo, as_json: bool, headline: str) -> None:
    if as_json:
        click.echo(json.dumps(item.to_json(), indent=2))
        return
    click.echo(f"voicemail {item.id}: {headline}")
    _print(item, zone)
