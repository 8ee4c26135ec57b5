"""``ivr callbacks``: the callbacks callers booked (queue key, voicemail) and the return visits closing a
work order books: list, cancel, retry.

``ivr serve`` places them (``acd.live.dialer``): a pending callback waits in the queue at the caller's
original place; when its turn comes an agent's phone rings, then the customer is dialled and bridged.
Unanswered attempts are retried (``callback_attempts``, ``callback_retry_seconds``), then given up."""

from __future__ import annotations

import json
from datetime import datetime

import click

from acd.records.callbacks import BookedCallback, cancel_callback, list_callbacks, retry_callback
from acd.records.rows import CallbackStatus
from ivr_engine.commands.tables import print_table
from ivr_engine.commands.units import centre_now, local_minute, run_unit
from ivr_engine.config import Settings

__all__ = ["callbacks_group"]

_WHAT = "the callbacks"
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.group("callbacks")
def callbacks_group() -> None:
    """Booked callbacks: list, cancel, retry.

    A callback keeps the caller's place in the queue. When its turn comes (same order as if the caller
    had held on) `ivr serve` rings a free agent first, then dials the customer and bridges them.
    No answer or busy: tried again after IVR_CALLBACK_RETRY_SECONDS, up to IVR_CALLBACK_ATTEMPTS times,
    then given up (failed). Statuses: pending (in line), dialing (an agent is being offered it), done,
    failed, cancelled.

    Closing a work order (`ivr ticket close`) books its return visit here too (CALL: visit:WO-...),
    due after return_visit_after_hours of workorders.yaml; a visit given up leaves the order's visit
    outcome unreached."""


@callbacks_group.command("list")
@click.option("--status", type=click.Choice([s.value for s in CallbackStatus]), default="pending",
              show_default=True)
@click.option("--all", "every", is_flag=True, help="Every status.")
@click.option("--queue", default=None, help="Only this queue.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1, max=10_000))
@_JSON
@click.pass_obj
def list_command(settings: Settings, status: str, every: bool, queue: str | None, limit: int,
                 as_json: bool) -> None:
    """Callbacks in line order (the caller's original place first)."""
    zone = centre_now(settings).zone
    wanted = None if every else CallbackStatus(status)
    found = run_unit(settings, lambda s: list_callbacks(s, status=wanted, queue=queue, limit=limit),
                     what=_WHAT)
    if as_json:
        click.echo(json.dumps([c.to_json() for c in found], indent=2))
        return
    if not found:
        click.echo("no callbacks")
        return
    def minute(moment: datetime | None) -> str:
        return "-" if moment is None else local_minute(moment, zone)

    print_table(["ID", "QUEUE", "NUMBER", "IN LINE SINCE", "STATUS", "TRIES", "NEXT TRY", "CALLED BACK",
                 "AGENT", "CALL"],
                [[str(c.id), c.queue, c.number, local_minute(c.requested, zone), c.status.value,
                  str(c.attempts), minute(c.due), minute(c.connected), c.agent_id or "-", c.call_id]
                 for c in found], right={0, 5})


@callbacks_group.command("cancel")
@click.argument("callback_id", type=int)
@_JSON
@click.pass_obj
def cancel_command(settings: Settings, callback_id: int, as_json: bool) -> None:
    """Cancel a pending callback, or one still waiting for an agent (status dialing)."""
    done = run_unit(settings, lambda s: cancel_callback(s, callback_id), what=_WHAT)
    _print(done, as_json, "cancelled")


@callbacks_group.command("retry")
@click.argument("callback_id", type=int)
@_JSON
@click.pass_obj
def retry_command(settings: Settings, callback_id: int, as_json: bool) -> None:
    """Put a failed or cancelled callback back in line (at its original place)."""
    done = run_unit(settings, lambda s: retry_callback(s, callback_id), what=_WHAT)
    _print(done, as_json, "back in line")


def _print(done: BookedCallback, as_json: bool, what: str) -> None:
    if as_json:
        click.echo(json.dumps(done.to_json(), indent=2))
    else:
        click.echo(f"callback {done.id} ({done.number}, queue {done.queue}): {what}")
