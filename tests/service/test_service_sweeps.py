"""Call rows left ``in_progress`` are swept periodically, and the sweep is retried until it runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Set
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr_engine.ari.client import AriClient
from ivr_engine.ari.fake import FakeAri
from ivr_engine.ari.media import default_resolver
from ivr_engine.service.app import IvrService, ServiceOptions

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


class FlakyRows:
    """A ``stale_calls`` port over a 'database' that refuses the first ``down`` sweeps."""

    def __init__(self, down: int) -> None:
        self.down = down
        self.open = {"ghost": T0 - timedelta(minutes=20), "alive": T0 - timedelta(minutes=20)}
        self.tries: list[tuple[frozenset[str], datetime]] = []

    async def __call__(self, alive: Set[str], started_before: datetime) -> list[str]:
        self.tries.append((frozenset(alive), started_before))
        if len(self.tries) <= self.down:
            raise ConnectionError("connection refused")
        stale = [c for c, started in self.open.items() if c not in alive and started < started_before]
        for call_id in stale:
            del self.open[call_id]
        return stale


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    server = FakeAri()
    await server.start()
    yield server
    await server.close()


async def test_the_sweep_retries_until_the_database_answers_then_keeps_its_interval(
    fake: FakeAri, tmp_path: Path
) -> None:
    fake.add_channel("alive")  # still up in Asterisk: its row is not stale
    rows = FlakyRows(down=3)
    client = AriClient.open(fake.config)
    options = ServiceOptions(clock=Clock(), sweep_interval=0.4, sweep_retry=0.05)
    service = IvrService(client, default_resolver(tmp_path), handlers={}, options=options, stale_calls=rows)
    try:
        service.start_sweeps()
        await asyncio.sleep(0.2)
        assert rows.tries == []  # the first sweep comes after the interval (the resync sweeps first)
        async with asyncio.timeout(3):
            while "ghost" in rows.open:  # noqa: ASYNC110 - polling the fake database
                await asyncio.sleep(0.01)
        assert len(rows.tries) == 4  # three refused, the fourth closed the row
        assert rows.open == {"alive": T0 - timedelta(minutes=20)}
        alive, before = rows.tries[-1]
        assert "alive" in alive
        assert before == T0
        await asyncio.sleep(0.25)
        assert len(rows.tries) == 4  # done: the next sweep waits for the interval
        await asyncio.sleep(0.3)
        assert len(rows.tries) == 5
    finally:
        await service.shutdown()
        await client.close()


async def test_no_sweep_while_ari_cannot_say_which_channels_are_alive(fake: FakeAri, tmp_path: Path) -> None:
    rows = FlakyRows(down=0)
    fake.errors[("GET", "/channels")] = (503, "unavailable")
    client = AriClient.open(fake.config)
    service = IvrService(client, default_resolver(tmp_path), handlers={}, stale_calls=rows,
                         options=ServiceOptions(clock=Clock()))
    try:
        assert await service.sweep_once() is False
        assert rows.tries == []
        del fake.errors[("GET", "/channels")]
        assert await service.sweep_once() is True
        assert set(rows.open) == set()
    finally:
        await service.shutdown()
        await client.close()


async def test_a_resync_that_could_not_close_rows_is_followed_by_a_sweep_soon(
    fake: FakeAri, tmp_path: Path
) -> None:
    rows = FlakyRows(down=1)  # down at the resync, back for the sweep
    client = AriClient.open(fake.config)
    options = ServiceOptions(clock=Clock(), sweep_interval=60.0, sweep_retry=0.05, orphan_grace=0.01)
    service = IvrService(client, default_resolver(tmp_path), handlers={}, options=options, stale_calls=rows)
    try:
        service.start_sweeps()
        service.on_connected(1)
        async with asyncio.timeout(2):  # far less than the 60 s interval
            while rows.open:  # noqa: ASYNC110 - polling the fake database
                await asyncio.sleep(0.01)
        assert len(rows.tries) == 2
    finally:
        await service.shutdown()
        await client.close()
