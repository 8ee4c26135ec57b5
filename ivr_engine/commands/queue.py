"""``ivr queue status``: waiting calls, agents per state and the longest wait, once or live."""

from __future__ import annotations

import asyncio
import time

import click

from ivr_engine.config import Settings
from ivr_engine.control import ControlClient
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
@click.pass_obj
def status(settings: Settings, watch: bool, interval: float, count: int) -> None:
    """Per queue: waiting calls (position, wait, priority, VIP), agents per state, longest wait."""
    if not watch:
        click.echo(queues_text(run_client(settings, lambda c: c.queues())))
        return

    async def work(client: ControlClient) -> None:
        shown = 0
        while True:
            text = queues_text(await client.queues())
            click.clear()
            click.echo(f"{time.strftime('%H:%M:%S')}  every {interval:g}s, Ctrl-C to stop\n\n{text}")
            shown += 1
            if count and shown >= count:
                return
            await asyncio.sleep(interval)

    try:
        run_client(settings, work)
    except KeyboardInterrupt:
        click.echo("stopped")
