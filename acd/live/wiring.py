"""Building the live ACD from settings, for the service's composition (``ivr serve``).

Usage in the runner (the client must exist before the flow services, which take the runtime as their
``transferrer``)::

    async with acd_runtime(settings, client, facts=recorder) as runtime:
        service = IvrService(..., originated_hook=runtime.originated_hook, event_tap=runtime.on_ari_event)
        # FlowServices(transferrer=runtime), control API app(control=runtime)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import acd
from acd.live.facts import AcdFactSink
from acd.live.runtime import AcdRuntime, RuntimeOptions
from ivr_engine.ari.client import AriClient
from ivr_engine.config import Settings

__all__ = ["acd_runtime", "build_acd_runtime"]


def build_acd_runtime(
    settings: Settings,
    client: AriClient,
    *,
    facts: AcdFactSink | None = None,
    options: RuntimeOptions | None = None,
    clock: Callable[[], float] = time.time,
    config: acd.AcdConfig | None = None,
) -> AcdRuntime:
    """A runtime over ``config``, by default the agents and queues of ``settings.agents_file`` (raises
    ``acd.AcdConfigError``); ``clock`` is the service's clock in epoch seconds."""
    config = config or acd.load_acd_config(settings.agents_file)
    engine = acd.Acd(config.queues, agents=config.agents)
    return AcdRuntime(engine, client, facts=facts, options=options, clock=clock)


@contextlib.asynccontextmanager
async def acd_runtime(
    settings: Settings,
    client: AriClient,
    *,
    facts: AcdFactSink | None = None,
    options: RuntimeOptions | None = None,
    clock: Callable[[], float] = time.time,
) -> AsyncIterator[AcdRuntime]:
    """The runtime with its tick loop running; on exit the loop is cancelled (bounded wait).

    The configured agents are registered with ``facts`` first (names and endpoints for the reports).
    """
    config = acd.load_acd_config(settings.agents_file)
    runtime = build_acd_runtime(settings, client, facts=facts, options=options, clock=clock, config=config)
    if facts is not None:
        await facts.register_agents(config.agents)
    ticker = asyncio.create_task(runtime.run(), name="acd-tick")
    try:
        yield runtime
    finally:
        ticker.cancel()
        timeout = (options or RuntimeOptions()).shutdown_timeout + 1
        await asyncio.wait([ticker], timeout=timeout)
