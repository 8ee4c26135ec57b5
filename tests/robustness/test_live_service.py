"""The live path (``run_service`` as ``ivr serve`` composes it, real SQLite stores) on the fake ARI, with
callers who misbehave: odd caller ids, a DTMF flood during playback, a very long call. Each call ends
with a recorded disposition, nothing is left behind, and the next call still works."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from ivr_engine.ari.fake import FakeAri
from ivr_engine.config import Settings
from ivr_engine.service.app import IvrService
from ivr_engine.service.runner import run_service
from ivr_engine.storage import Database
from ivr_engine.storage.pins import PinKeyError
from ivr_engine.storage.queries import CallDetail, call_detail
from ivr_engine.storage.writer import storable

BALANCE_OK = "100200#4321#"


@dataclasses.dataclass
class Live:
    fake: FakeAri
    database: Database
    service: asyncio.Task[IvrService]

    async def gone(self, channel_id: str, wait: float = 15.0) -> None:
        async with asyncio.timeout(wait):
            while channel_id in self.fake.channels:  # noqa: ASYNC110 - polling the fake's state
                await asyncio.sleep(0.02)

    async def ended(self, call_id: str, wait: float = 15.0) -> CallDetail:
        """The call's stored detail once its row is closed (the write-behind queue has caught up)."""
        async with asyncio.timeout(wait):
            while True:
                detail = await self.database.run(lambda session: call_detail(session, call_id))
                if detail is not None and detail.call.ended is not None:
                    return detail
                await asyncio.sleep(0.05)

    async def balance_call(self, channel_id: str, caller: str = "15550001001") -> CallDetail:
        """A well-behaved caller: account, PIN, hears the balance, presses 9 for goodbye."""
        await self.fake.incoming(channel_id, "101", caller=caller)
        await self.fake.dtmf(channel_id, BALANCE_OK + "9")
        await self.gone(channel_id)
        return await self.ended(channel_id)


@asynccontextmanager
async def live_service(settings: Settings) -> AsyncIterator[Live]:
    fake = FakeAri(playback_seconds=0.005)
    await fake.start()
    settings = dataclasses.replace(
        settings, ari_port=fake.port, ari_user=fake.user, ari_password=fake.password
    )
    stop = asyncio.Event()
    service = asyncio.create_task(run_service(settings, stop=stop, synthesiser=None))
    database = Database(settings.db_url)
    try:
        await fake.connected()
        yield Live(fake, database, service)
    finally:
        stop.set()
        stopped = await asyncio.wait_for(service, 15)
        await fake.close()
        database.dispose()
    # Nothing leaks: no call task, no channel left in the fake, no task of ours still running.
    assert stopped.active_calls == frozenset()
    assert fake.channels == {}
    current = asyncio.current_task()
    assert [t for t in asyncio.all_tasks() if t is not current] == []


def _completed_balance(detail: CallDetail) -> None:
    assert detail.call.disposition == "completed", detail.call
    steps = [(s.node, s.outcome) for s in detail.path]
    assert ("check_account", "found") in steps
    assert steps[-1] == ("goodbye", "completed")


ODD_CALLERS = {
    "unicode": "Zoë ☎ 日本 😀",
    "quotes": "\"O'Brien\" <'1001'>",
    "sql": "1'; DROP TABLE calls; --",
    "empty": "",
    "200 chars": "5" * 200,
    "control": "line\nbreak\ttab\x1b[31m",
}


@pytest.mark.parametrize("name", sorted(ODD_CALLERS))
async def test_odd_caller_ids_are_served_and_recorded(seeded_sqlite: Settings, name: str) -> None:
    caller = ODD_CALLERS[name]
    async with live_service(seeded_sqlite) as live:
        detail = await live.balance_call("odd-1", caller=caller)
        _completed_balance(detail)
        assert detail.call.caller == storable(caller)
        after = await live.balance_call("after-1")
        _completed_balance(after)


async def test_a_dtmf_flood_during_playback_ends_the_call_and_the_service_goes_on(
    seeded_sqlite: Settings,
) -> None:
    keys = "".join(random.Random(7).choice("0123456789*#ABCD") for _ in range(1500))
    sunday = dataclasses.replace(seeded_sqlite, clock_start="2026-06-07T12:00-04:00")  # agents closed
    async with live_service(sunday) as live:
        await live.fake.incoming("flood-1", "100", caller="15550001001")
        # all of it while the welcome is still playing; the flow may end the call before the last key
        # (its event sends wait while the socket is full, as on a slow machine): the rest goes nowhere
        with contextlib.suppress(KeyError):
            await live.fake.dtmf("flood-1", keys)
        try:
            await live.gone("flood-1", wait=5)
        except TimeoutError:  # the flood left it waiting for more input: the caller gives up
            with contextlib.suppress(KeyError):  # unless the flow hung up just now
                await live.fake.caller_hangup("flood-1")
        detail = await live.ended("flood-1")
        path = [(s.flow, s.node, s.outcome) for s in detail.path]
        assert detail.call.disposition in {"completed", "caller_hangup"}, (detail.call, path)
        assert path, "the node log kept the path"
        _completed_balance(await live.balance_call("after-flood"))


async def test_a_very_long_call_of_menu_loops_ends_normally(seeded_sqlite: Settings) -> None:
    loops = 300
    async with live_service(seeded_sqlite) as live:
        await live.fake.incoming("long-1", "101", caller="15550001001")
        await live.fake.dtmf("long-1", BALANCE_OK)

        def plays() -> int:
            return len(live.fake.calls("POST", "/channels/long-1/play/"))

        for _ in range(loops):  # "1" in the after-balance menu says the balance again
            before = plays()
            await live.fake.dtmf("long-1", "1")
            async with asyncio.timeout(10):  # at a caller's pace: the flow moved on before the next key
                while plays() == before:  # noqa: ASYNC110 - polling the fake's request log
                    await asyncio.sleep(0.005)
        await live.fake.dtmf("long-1", "9")
        await live.gone("long-1", wait=60)
        detail = await live.ended("long-1")
        _completed_balance(detail)
        assert [s.node for s in detail.path].count("say_balance") == loops + 1
        _completed_balance(await live.balance_call("after-long"))


async def test_a_caller_who_hangs_up_mid_flow_is_recorded_as_caller_hangup(seeded_sqlite: Settings) -> None:
    async with live_service(seeded_sqlite) as live:
        await live.fake.incoming("gone-1", "101", caller="15550001001")
        await live.fake.dtmf("gone-1", "1002")  # part of an account number, then the caller leaves
        await asyncio.sleep(0.2)
        await live.fake.caller_hangup("gone-1")
        detail = await live.ended("gone-1")
        assert detail.call.disposition == "caller_hangup"
        assert [(s.node, s.outcome) for s in detail.path][-1] == ("ask_account", "hangup")
        _completed_balance(await live.balance_call("after-gone"))


async def test_the_service_does_not_start_on_a_malformed_pin_key_file(seeded_sqlite: Settings) -> None:
    seeded_sqlite.pin_key_path.write_text("not a key\n")  # the demo PINs were hashed under the real one
    fake = FakeAri(playback_seconds=0.005)
    await fake.start()
    settings = dataclasses.replace(
        seeded_sqlite, ari_port=fake.port, ari_user=fake.user, ari_password=fake.password
    )
    try:
        with pytest.raises(PinKeyError, match=r"PIN key file .*pin\.key is malformed"):
            await asyncio.wait_for(run_service(settings, stop=asyncio.Event(), synthesiser=None), 15)
    finally:
        await fake.close()
    assert seeded_sqlite.pin_key_path.read_text() == "not a key\n"  # left for the operator to restore
