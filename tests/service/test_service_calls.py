"""The Stasis app: routing by number, one task per call, apology on failure, resync."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Set as AbstractSet
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ivr_engine.ari.client import AriClient
from ivr_engine.ari.events import UNREAD_EVENTS
from ivr_engine.ari.fake import FakeAri
from ivr_engine.ari.media import default_resolver
from ivr_engine.ari.stream import Backoff, EventStream
from ivr_engine.calls import CallInfo, Resynced
from ivr_engine.channel import Channel
from ivr_engine.flow.ports import CallRecord
from ivr_engine.service.app import APOLOGY, IvrService, ServiceOptions
from ivr_engine.service.demo import demo_handler
from ivr_engine.service.eventlog import read_events

if TYPE_CHECKING:
    from .conftest import Running


def media_played(running: Running, channel_id: str) -> list[str]:
    return [r.params["media"] for r in running.fake.calls("POST", f"/channels/{channel_id}/play/")]


async def test_demo_call_collects_and_reads_back_digits(start_service: object) -> None:
    running: Running = await start_service({"100": demo_handler})  # type: ignore[operator]
    running.fake.playback_seconds = 5
    await running.fake.incoming("c1", "100", caller="1000")
    await running.until(lambda: bool(running.fake.calls("POST", "/channels/c1/play/")))
    running.fake.playback_seconds = 0.02
    await running.fake.dtmf("c1", "123#")
    await running.until(lambda: "c1" not in running.fake.channels)
    await running.service.wait_idle()
    assert running.fake.calls("POST", "/channels/c1/answer")
    assert media_played(running, "c1")[1:] == ["sound:you-entered,digits:123", "sound:goodbye"]
    keys = [e for e in read_events(running.events_file) if e["type"] == "ChannelDtmfReceived"]
    assert len(keys) == 4  # each key is logged as an event, without its value
    assert all("digit" not in e for e in keys)


async def test_handler_error_gives_apology_then_hangup_and_service_survives(start_service: object) -> None:
    async def broken(channel: Channel, call: CallInfo) -> None:
        await channel.answer()
        raise RuntimeError("lookup exploded")

    calls: list[str] = []

    async def fine(channel: Channel, call: CallInfo) -> None:
        calls.append(call.caller)
        await channel.hangup()

    running: Running = await start_service({"100": broken, "101": fine})  # type: ignore[operator]
    await running.fake.incoming("bad", "100")
    await running.until(lambda: "bad" not in running.fake.channels)
    assert media_played(running, "bad") == [",".join(APOLOGY)]
    await running.fake.incoming("good", "101", caller="2000")
    await running.until(lambda: "good" not in running.fake.channels)
    await running.service.wait_idle()
    assert calls == ["2000"]
    assert running.service.handler_errors == 1


async def test_unknown_number_gets_apology(start_service: object) -> None:
    running: Running = await start_service({})  # type: ignore[operator]
    await running.fake.incoming("c1", "999")
    await running.until(lambda: "c1" not in running.fake.channels)
    assert media_played(running, "c1") == [",".join(APOLOGY)]


async def test_slow_call_does_not_delay_another(start_service: object) -> None:
    release = asyncio.Event()
    finished: list[str] = []

    async def handler(channel: Channel, call: CallInfo) -> None:
        if call.caller == "slow":
            await release.wait()  # e.g. a slow database lookup; its events pile up meanwhile
        digits = await channel.collect(max_digits=3, first_timeout=3)
        finished.append(f"{call.caller}:{digits.text}")
        await channel.hangup()

    running: Running = await start_service({"100": handler})  # type: ignore[operator]
    await running.fake.incoming("s", "100", caller="slow")
    await running.fake.incoming("f", "100", caller="fast")
    await running.fake.dtmf("s", "987")
    await running.fake.dtmf("f", "123")
    await running.until(lambda: finished == ["fast:123"])
    release.set()
    await running.until(lambda: len(finished) == 2)
    assert finished == ["fast:123", "slow:987"]  # the slow call's keys arrived in order, none lost


async def test_originated_channels_go_to_the_hook(start_service: object) -> None:
    seen: list[tuple[str, ...]] = []

    async def hook(channel: Channel, call: CallInfo) -> None:
        seen.append(call.args)
        await channel.hangup()

    running: Running = await start_service({"100": demo_handler}, originated_hook=hook)  # type: ignore[operator]
    await running.fake.incoming("agent-1", "agent", "q1")
    await running.until(lambda: bool(seen))
    assert seen == [("agent", "q1")]


async def test_call_lifecycle_goes_to_call_store(start_service: object) -> None:
    class Store:
        def __init__(self) -> None:
            self.rows: list[str] = []

        async def call_started(self, call: CallRecord) -> None:
            self.rows.append(f"start {call.call_id} {call.caller} {call.dialled}")

        async def call_ended(self, call_id: str, ended: datetime, disposition: str) -> None:
            self.rows.append(f"end {call_id} {disposition}")

    async def waits(channel: Channel, call: CallInfo) -> None:
        await channel.collect(max_digits=1, first_timeout=5)

    legs: list[str] = []

    async def agent_leg(channel: Channel, call: CallInfo) -> None:
        legs.append(call.channel_id)
        await channel.hangup()

    store = Store()
    running: Running = await start_service(  # type: ignore[operator]
        {"100": waits}, call_store=store, originated_hook=agent_leg
    )
    await running.fake.incoming("c1", "100", caller="3000")
    await running.until(lambda: bool(store.rows))
    await running.fake.incoming("leg-1", "agent", "c1")  # an agent leg is part of c1, not a call
    await running.until(lambda: legs == ["leg-1"])
    await running.fake.caller_hangup("c1")
    await running.until(lambda: len(store.rows) == 2)
    await running.service.wait_idle()
    assert store.rows == ["start c1 3000 100", "end c1 caller_hangup"]


async def test_resync_after_reconnect_ends_vanished_and_hangs_up_orphans(start_service: object) -> None:
    outcome: list[str] = []

    async def waits(channel: Channel, call: CallInfo) -> None:
        try:
            await channel.collect(max_digits=1, first_timeout=10)
        finally:
            outcome.append(call.channel_id)

    running: Running = await start_service({"100": waits})  # type: ignore[operator]
    await running.fake.incoming("kept", "100")
    await running.fake.incoming("lost", "100")
    await running.until(lambda: running.service.active_calls == {"kept", "lost"})
    # Outage: the WebSocket drops; meanwhile "lost" disappears and "stray" enters our app unseen.
    running.fake.accepting = False
    await running.fake.drop_websockets()
    del running.fake.channels["lost"]
    running.fake.add_channel("stray")
    running.fake.accepting = True
    await running.fake.connected(2)
    await running.until(lambda: outcome == ["lost"] and "stray" not in running.fake.channels)
    assert media_played(running, "stray") == [",".join(APOLOGY)]
    # the stray's call ends once the service has the answer to its hang-up, after the fake dropped it
    await running.until(lambda: running.service.active_calls == {"kept"})
    assert running.stream.reconnects == 1
    await running.fake.dtmf("kept", "5")
    await running.until(lambda: outcome == ["lost", "kept"])


async def test_a_resync_asterisk_cannot_answer_yet_is_tried_again(start_service: object) -> None:
    """Right after a cut Asterisk may answer GET /applications/{app} with 500 while it makes the app
    anew: the resync tries again, so a caller who entered the app meanwhile is still found and answered
    (the apology) instead of waiting in silence until the next reconnect."""
    running: Running = await start_service({})  # type: ignore[operator]
    await running.until(lambda: len(running.fake.calls("GET", "/applications/")) == 1)  # the first resync
    running.fake.accepting = False
    await running.fake.drop_websockets()
    running.fake.add_channel("stray")
    running.fake.errors[("GET", "/applications/")] = (500, "Internal Server Error")
    running.fake.accepting = True
    await running.fake.connected(2)
    await running.until(lambda: len(running.fake.calls("GET", "/applications/")) >= 3)  # failed twice
    assert "stray" in running.fake.channels
    del running.fake.errors[("GET", "/applications/")]
    await running.until(lambda: "stray" not in running.fake.channels)
    assert media_played(running, "stray") == [",".join(APOLOGY)]
    assert running.stream.reconnects == 1


async def test_orphans_claimed_by_the_resync_hook_are_taken_back_before_the_grace(
    start_service: object,
) -> None:
    """A channel the ACD claims from an earlier run is adopted at once; an unknown one only after the
    orphan grace (its StasisStart may still be on the wire), then apologised to."""
    adopted: list[tuple[str, float]] = []
    asked: list[float] = []
    loop = asyncio.get_running_loop()

    async def resync_hook(existing: AbstractSet[str], bridges: object) -> Resynced:
        asked.append(loop.time())
        return Resynced(claimed={"old"} & existing)

    async def orphan_hook(channel: Channel, call: CallInfo) -> bool:
        adopted.append((channel.id, loop.time()))
        return channel.id == "old"

    fake = FakeAri(playback_seconds=0.02)
    await fake.start()
    fake.add_channel("old")
    fake.add_channel("stray")
    client = AriClient.open(fake.config)
    service = IvrService(client, default_resolver(Path(".")), handlers={}, resync_hook=resync_hook,
                         orphan_hook=orphan_hook, options=ServiceOptions(orphan_grace=1.0))
    stream = EventStream(fake.config, client.session, on_event=service.on_event,
                         on_connected=service.on_connected, backoff=Backoff(0.01, 2, 0.05))
    reader = asyncio.create_task(stream.run())
    try:
        async with asyncio.timeout(5):
            while len(adopted) < 2 or "stray" in fake.channels:  # noqa: ASYNC110 - the service's state
                await asyncio.sleep(0.01)
        assert [c for c, _ in adopted] == ["old", "stray"]
        assert adopted[0][1] - asked[0] < 0.5  # no grace for the claimed channel
        assert adopted[1][1] - asked[0] >= 1.0  # the grace for the unknown one
        played = {c: [r.params["media"] for r in fake.calls("POST", f"/channels/{c}/play/")]
                  for c in ("old", "stray")}
        assert played == {"old": [], "stray": [",".join(APOLOGY)]}  # only the unknown one apologised to
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await service.shutdown()
        await client.close()
        await fake.close()


async def test_asterisk_is_asked_after_every_connect_not_to_send_the_events_nobody_reads(
    start_service: object,
) -> None:
    running: Running = await start_service({})  # type: ignore[operator]
    await running.until(lambda: running.fake.events_disallowed == UNREAD_EVENTS)
    running.fake.events_disallowed = set()  # Asterisk restarted: its app, and the filter, are new
    await running.fake.drop_websockets()
    await running.fake.connected(2)
    await running.until(lambda: running.fake.events_disallowed == UNREAD_EVENTS)
    asked = [r.path for r in running.fake.requests if r.method == "PUT"]
    assert asked == ["/applications/ivr-engine/eventFilter"] * 2


async def test_a_refused_event_filter_is_logged_and_calls_go_on_with_every_event(
    start_service: object, caplog: pytest.LogCaptureFixture,
) -> None:
    answered: list[str] = []

    async def answer(channel: Channel, call: CallInfo) -> None:
        await channel.answer()
        answered.append(call.channel_id)

    caplog.set_level(logging.WARNING, "ivr_engine.service")
    running: Running = await start_service({"100": answer})  # type: ignore[operator]
    await running.until(lambda: running.fake.events_disallowed == UNREAD_EVENTS)
    running.fake.events_disallowed = set()  # a restarted Asterisk, which then refuses the filter
    running.fake.errors[("PUT", "/applications/")] = (500, "no filter here")
    await running.fake.drop_websockets()
    await running.fake.connected(2)
    await running.until(lambda: "service.event_filter.failed" in caplog.text)
    await running.fake.incoming("c1", "100")
    await running.until(lambda: answered == ["c1"])
    assert running.fake.events_disallowed == set()


async def test_overlapping_resyncs_answer_an_orphan_once(start_service: object) -> None:
    """A reconnect while the last resync still waits for Asterisk: both resyncs find the channel that
    entered the app during the cuts, and one call task answers it (one apology), not one per resync."""
    running: Running = await start_service({})  # type: ignore[operator]
    await running.until(lambda: len(running.fake.calls("GET", "/applications/")) == 1)  # the first resync
    running.fake.delays[("GET", "/channels")] = 0.3  # every resync's requests are answered slowly now
    running.fake.accepting = False
    await running.fake.drop_websockets()
    running.fake.add_channel("stray")
    running.fake.accepting = True
    await running.fake.connected(2)  # its resync waits for the list of channels...
    running.fake.accepting = False
    await running.fake.drop_websockets()  # ...when the WebSocket is cut again
    running.fake.accepting = True
    await running.fake.connected(3)
    await running.until(lambda: "stray" not in running.fake.channels)
    await running.service.wait_idle()
    assert media_played(running, "stray") == [",".join(APOLOGY)]
    assert running.service.calls_started == 1
    assert running.stream.reconnects == 2
