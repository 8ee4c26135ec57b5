"""Fixtures: the control app over a fake ACD, served by aiohttp's test server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ivr_engine.control import make_control_app
from ivr_engine.screenpop import ScreenPopService
from ivr_engine.storage import Database
from tests.acd_control_fakes import FakeControl

from .control_fakes import TOKEN


@pytest.fixture
def fake() -> FakeControl:
    return FakeControl()


@pytest.fixture
def screenpops(tmp_path: Path) -> Iterator[ScreenPopService]:
    """A service whose database is never reached: the control tests publish screen-pops directly."""
    database = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    yield ScreenPopService(database)
    database.dispose()


@pytest.fixture
async def client(fake: FakeControl, screenpops: ScreenPopService) -> AsyncIterator[TestClient]:
    app = make_control_app(fake, screenpops, TOKEN, clock=lambda: fake.now, keepalive=0.2)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client
