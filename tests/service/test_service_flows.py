"""``run_service`` as ``ivr serve`` composes it: YAML flows over the real stores, on a fake ARI."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import aiohttp

from ivr_engine.ari.fake import FakeAri
from ivr_engine.config import Settings
from ivr_engine.lab.ports import free_tcp_port
from ivr_engine.service.runner import run_service
from ivr_engine.storage import Database
from ivr_engine.storage.queries import CallDetail, call_detail


async def _until_gone(fake: FakeAri, channel_id: str, wait: float = 10.0) -> None:
    async with asyncio.timeout(wait):
        while channel_id in fake.channels:  # noqa: ASYNC110 - polling the fake's state
            await asyncio.sleep(0.02)


async def _until_plays(fake: FakeAri, channel_id: str, count: int, wait: float = 10.0) -> None:
    """Until the call has asked ARI for ``count`` plays: the flow is at the node that played the last."""
    async with asyncio.timeout(wait):
        while len(fake.calls("POST", f"/channels/{channel_id}/play/")) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def _undated(detail: CallDetail) -> CallDetail:
    """``detail`` with every time set to one fixed instant."""
    when = datetime(2000, 1, 1, tzinfo=UTC)
    call = dataclasses.replace(detail.call, started=when, ended=when)
    path = tuple(dataclasses.replace(step, entered=when, left=when) for step in detail.path)
    return dataclasses.replace(detail, call=call, path=path)


async def _ended_call(database: Database, call_id: str, wait: float = 10.0) -> CallDetail:
    """The call's stored detail once its row is closed (the write-behind queue has caught up)."""
    async with asyncio.timeout(wait):
        while True:
            detail = await database.run(lambda session: call_detail(session, call_id))
            if detail is not None and detail.call.ended is not None:
                return detail
            await asyncio.sleep(0.05)


async def test_balance_call_runs_its_flow_and_logs_the_path_masked(seeded_settings: Settings) -> None:
    fake = FakeAri(playback_seconds=0.01)
    await fake.start()
    settings = dataclasses.replace(
        seeded_settings, ari_port=fake.port, ari_user=fake.user, ari_password=fake.password,
        http_port=free_tcp_port(),
    )
    stop = asyncio.Event()
    service = asyncio.create_task(run_service(settings, stop=stop, synthesiser=None))
    try:
        await fake.connected()
        await fake.incoming("bal-1", "101", caller="15550001001")
        await _until_plays(fake, "bal-1", 1)  # "enter your account number"
        await fake.dtmf("bal-1", "100200#")
        await _until_plays(fake, "bal-1", 2)  # "enter your PIN"
        await fake.dtmf("bal-1", "4321#")
        await _until_plays(fake, "bal-1", 4)  # the balance, then the menu after it ("9": goodbye)
        await fake.dtmf("bal-1", "9")
        await _until_gone(fake, "bal-1")
        database = Database(settings.db_url)
        try:
            detail = await _ended_call(database, "bal-1")
        finally:
            database.dispose()
        async with aiohttp.ClientSession() as http:
            response = await http.get(f"http://127.0.0.1:{settings.http_port}/metrics")
            metrics = await response.text()
    finally:
        stop.set()
        await asyncio.wait_for(service, 10)
        await fake.close()

    played = [r.params["media"] for r in fake.calls("POST", "/channels/bal-1/play/")]
    assert any("number:1234" in media for media in played), played
    assert detail.call.dialled == "101"
    assert detail.call.caller == "15550001001"
    assert detail.call.disposition == "completed"
    steps = [(s.node, s.input, s.outcome) for s in detail.path]
    assert ("ask_account", "100200", "next") in steps
    assert ("ask_pin", "****", "next") in steps
    assert ("check_account", "account=100200 pin=****", "found") in steps
    # the PIN nowhere in the stored call; its times left out: their microseconds can read 4321
    assert "4321" not in repr(_undated(detail))
    assert 'ivr_node_visits_total{flow="balance",node="ask_pin"} 1.0' in metrics
    assert "ivr_calls_total 1.0" in metrics
    assert "ivr_storage_alarm 0.0" in metrics
    assert 'ivr_agents{state="logged_out"} 3.0' in metrics
