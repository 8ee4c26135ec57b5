"""The events WebSocket reconnects with backoff and counts it."""

from __future__ import annotations

import asyncio

from ivr_engine.ari.client import AriClient
from ivr_engine.ari.events import AriEvent, StasisStart
from ivr_engine.ari.fake import FakeAri
from ivr_engine.ari.stream import Backoff, EventStream


def test_backoff_grows_and_caps() -> None:
    backoff = Backoff(initial=0.5, factor=2, maximum=3)
    assert [backoff.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3, 3]


async def test_reconnects_after_drop_and_keeps_delivering(fake: FakeAri, client: AriClient) -> None:
    seen: list[AriEvent] = []
    connections: list[int] = []
    stream = EventStream(fake.config, client.session, on_event=seen.append, on_connected=connections.append,
                         backoff=Backoff(0.01, 2, 0.05))
    reader = asyncio.create_task(stream.run())
    try:
        await fake.connected(1)
        fake.accepting = False
        await fake.drop_websockets()
        await asyncio.sleep(0.2)  # several refused attempts: logged, not raised
        assert not reader.done()
        fake.accepting = True
        await fake.connected(2)
        await fake.incoming("c9", "100")
        async with asyncio.timeout(2):
            while not seen:  # noqa: ASYNC110 - polling a plain list the callback fills
                await asyncio.sleep(0.01)
        assert isinstance(seen[0], StasisStart)
        assert stream.reconnects == 1
        assert connections == [1, 2]
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
