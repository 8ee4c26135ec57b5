"""The events WebSocket reconnects with backoff and counts it."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ivr_engine.ari.client import AriClient
from ivr_engine.ari.events import AriEvent, StasisStart
from ivr_engine.ari.fake import FakeAri
from ivr_engine.ari.stream import Backoff, EventStream

from .conftest import SelfSigned


async def _first(seen: list[AriEvent], wait: float) -> AriEvent:
    """The first event the stream's callback put in ``seen``, waiting up to ``wait`` seconds for it."""
    async with asyncio.timeout(wait):
        while not seen:  # noqa: ASYNC110 - polling a plain list the callback fills
            await asyncio.sleep(0.01)
    return seen[0]


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
        assert isinstance(await _first(seen, 2), StasisStart)
        assert stream.reconnects == 1
        assert connections == [1, 2]
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


def test_default_backoff_probes_at_least_once_a_second() -> None:
    backoff = Backoff()
    delays = [backoff.delay(n) for n in range(1, 100)]
    assert delays[0] <= 0.25
    assert max(delays) <= 1.0


async def test_a_long_outage_is_probed_often_so_the_return_is_quick(fake: FakeAri, client: AriClient) -> None:
    stream = EventStream(fake.config, client.session, on_event=lambda _e: None)  # the default backoff
    reader = asyncio.create_task(stream.run())
    try:
        await fake.connected(1)
        fake.accepting = False
        await fake.drop_websockets()
        before = fake.ws_attempts
        await asyncio.sleep(5.0)  # a doubling backoff would sleep 4 s and more by now
        probes = fake.ws_attempts - before
        fake.accepting = True
        loop = asyncio.get_running_loop()
        back = loop.time()
        await fake.connected(2, wait=3.0)
        assert loop.time() - back <= 1.2
        assert stream.reconnects == 1
        assert probes >= 5  # at least once a second
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


async def test_a_handshake_that_hangs_is_given_up_and_tried_again(fake: FakeAri, client: AriClient) -> None:
    fake.stalling = True
    stream = EventStream(fake.config, client.session, on_event=lambda _e: None,
                         backoff=Backoff(0.01, 2, 0.05), connect_timeout=0.2)
    reader = asyncio.create_task(stream.run())
    try:
        await asyncio.sleep(0.5)
        assert not stream.connected.is_set()
        fake.stalling = False
        await fake.connected(1, wait=1.0)  # a new attempt: the hung one was abandoned
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


async def test_an_outage_is_logged_once_then_every_60th_attempt(
    fake: FakeAri, client: AriClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake.accepting = False
    stream = EventStream(fake.config, client.session, on_event=lambda _e: None,
                         backoff=Backoff(0.001, 1, 0.001))
    caplog.set_level(logging.DEBUG, logger="ivr_engine.ari.stream")
    reader = asyncio.create_task(stream.run())
    try:
        async with asyncio.timeout(10):
            while sum("ari.events.unavailable" in r.message for r in caplog.records) < 125:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    failures = [r for r in caplog.records if "ari.events.unavailable" in r.message]
    loud = [int(r.message.split("attempt=")[1].split()[0]) for r in failures if r.levelno == logging.WARNING]
    assert loud == [1, 61, 121]


async def test_a_cancel_while_attempts_fail_at_once_always_stops_the_reader(
    fake: FakeAri, client: AriClient
) -> None:
    """Refused connections end at once, so a cancel often lands as an attempt ends: it must never be
    taken for one more failure (on Python 3.11 ``wait_for`` could swallow it; the suite then hung)."""
    fake.accepting = False
    for attempt in range(40):
        stream = EventStream(fake.config, client.session, on_event=lambda _e: None,
                             backoff=Backoff(0.0, 1, 0.0))
        reader = asyncio.create_task(stream.run())
        await asyncio.sleep(0.001 * (attempt % 7))
        reader.cancel()
        done, _ = await asyncio.wait([reader], timeout=2)
        assert reader in done, f"attempt {attempt}: the reader ignored its cancel"


async def test_over_tls_the_events_come_over_wss_and_requests_over_https(
    self_signed: SelfSigned, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Asterisk serving ARI over TLS (``ari_scheme: https``), its certificate trusted through
    ``SSL_CERT_FILE``: the events WebSocket connects over ``wss`` and delivers, REST answers over
    ``https``."""
    monkeypatch.setenv("SSL_CERT_FILE", self_signed.cert)
    fake = FakeAri(tls=self_signed.server)
    await fake.start()
    assert fake.config.events_url.startswith("wss://127.0.0.1:")
    client = AriClient.open(fake.config)
    seen: list[AriEvent] = []
    stream = EventStream(fake.config, client.session, on_event=seen.append, backoff=Backoff(0.01, 2, 0.05))
    reader = asyncio.create_task(stream.run())
    try:
        await fake.connected(1)
        await fake.incoming("c9", "100")
        assert isinstance(await _first(seen, 5), StasisStart)
        async with asyncio.timeout(5):
            await client.answer("c9")
        assert ("POST", "/channels/c9/answer") in [(r.method, r.path) for r in fake.requests]
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await client.close()
        await fake.close()
