"""``ivr queue status``: waiting calls, agents per state and the longest wait, once or live."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence

import click

from ivr_engine.config import Settings
from ivr_engine.control import ControlClient, QueueView
from ivr_engine.control.cli import run_client
from ivr_engine.control.tables import queues_text

__all__ = ["queue_group"]


@click.group("queue")
def queue_group() -> None:
    """Queues of the running service (see `ivr serve`)."""


@queue_group.command("status")
@click.option("--watch", is_flag=True, help="Refresh until Ctrl-C.")
@click.option("--interval", type=click.FloatRange(min=0.2), default=2.0, show_default=True,
              help="Seconds between refreshes with --watch.")
@click.option("--count", type=click.IntRange(min=0), default=0, show_default=True,
              help="With --watch: stop after this many refreshes (0: until Ctrl-C).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (with --watch: one JSON document per line per refresh).")
@click.pass_obj
def status(settings: Settings, watch: bool, interval: float, count: int, as_json: bool) -> None:
    """Per queue: waiting calls (position, wait, priority, VIP), agents per state, longest wait."""
    if not watch:
        queues = run_client(settings, lambda c: c.queues())
        click.echo(_json(queues, indent=2) if as_json else queues_text(queues))
        return

    async def work(client: ControlClient) -> None:
        shown = 0
        while True:
            queues = await client.queues()
            if as_json:
                click.echo(_json(queues, indent=None))
            else:
                click.clear()
                click.echo(f"{time.strftime('%H:%M:%S')}  every {interval:g}s, Ctrl-C to stop\n\n"
                           f"{queues_text(queues)}")
            shown += 1
            if count and shown >= count:
                return
            await asyncio.sleep(interval)

    try:
        run_client(settings, work)
    except KeyboardInterrupt:
        click.echo("stopped")


def _json(queues: Sequence[QueueView], indent: int | None) -> str:
    return json.dumps([queue.to_json() for queue in queues], indent=indent)
