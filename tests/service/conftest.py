from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr_engine.ari.client import AriClient
from ivr_engine.ari.fake import FakeAri
from ivr_engine.ari.media import default_resolver
from ivr_engine.ari.stream import Backoff, EventStream
from ivr_engine.calls import CallHandler
from ivr_engine.service.app import IvrService, ServiceOptions
from ivr_engine.service.eventlog import EventLog


@dataclass
class Running:
    fake: FakeAri
    service: IvrService
    stream: EventStream
    events_file: Path

    async def until(self, condition: Callable[[], bool], wait: float = 5.0) -> None:
        async with asyncio.timeout(wait):
            while not condition():  # noqa: ASYNC110 - polling state the service owns
                await asyncio.sleep(0.01)


@pytest.fixture
async def start_service(tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    """``await start_service(handlers)`` -> a Running service against a fake ARI."""
    cleanups: list[Callable[[], object]] = []

    async def start(handlers: Mapping[str, CallHandler], **kwargs: object) -> Running:
        fake = FakeAri(playback_seconds=0.02)
        await fake.start()
        client = AriClient.open(fake.config)
        log = EventLog(tmp_path / "events.jsonl")
        log.open()
        service = IvrService(client, default_resolver(tmp_path), handlers=handlers, event_log=log,
                             options=ServiceOptions(orphan_grace=0.05, apology_timeout=2), **kwargs)  # type: ignore[arg-type]
        stream = EventStream(fake.config, client.session, on_event=service.on_event,
                             on_connected=service.on_connected, backoff=Backoff(0.01, 2, 0.05))
        reader = asyncio.create_task(stream.run())
        await fake.connected()

        async def stop() -> None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await service.shutdown()
            await client.close()
            await fake.close()
            log.close()

        cleanups.append(stop)
        return Running(fake, service, stream, tmp_path / "events.jsonl")

    yield start
    for cleanup in cleanups:
        await cleanup()  # type: ignore[misc]
