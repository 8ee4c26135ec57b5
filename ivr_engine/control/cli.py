"""The bridge from a click command to the control client: one asyncio run, one-line errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from ivr_engine.config import ConfigError, Settings
from ivr_engine.control.client import ControlClient
from ivr_engine.control.errors import ControlError

__all__ = ["run_client"]

T = TypeVar("T")


def run_client(settings: Settings, work: Callable[[ControlClient], Awaitable[T]]) -> T:
    """Run ``work`` with a client for the service of ``settings``; failures become a ClickException."""

    async def main() -> T:
        async with ControlClient.from_settings(settings) as client:
            return await work(client)

    try:
        return asyncio.run(main())
    except (ControlError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None
