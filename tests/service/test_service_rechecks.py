"""After every reconnect of the events WebSocket each live call re-checks what it waits for."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ivr_engine.calls import CallInfo
from ivr_engine.channel import Channel

if TYPE_CHECKING:
    from .conftest import Running


async def test_a_reconnect_frees_calls_whose_playback_finished_while_the_websocket_was_down(
    start_service: object,
) -> None:
    done: list[str] = []

    async def listen(channel: Channel, call: CallInfo) -> None:
        await channel.answer()
        # An unknown sound: its estimate (5 s) plus the margin would hold the call ~6 s without a recheck.
        await channel.play_uris(["sound:no-such-sound-anywhere"])  # type: ignore[attr-defined]
        done.append(call.channel_id)

    running: Running = await start_service({"100": listen})  # type: ignore[operator]
    running.fake.playback_seconds = 0.2
    running.fake.lost_events = {"PlaybackFinished"}  # as if lost with the WebSocket
    for channel_id in ("c1", "c2", "c3"):
        await running.fake.incoming(channel_id, "100")
    await running.until(lambda: len(running.fake.calls("POST", "/channels/")) >= 6)
    await asyncio.sleep(0.3)  # every playback has ended in Asterisk; no call knows
    assert done == []
    loop = asyncio.get_running_loop()
    cut = loop.time()
    await running.fake.drop_websockets()
    await running.until(lambda: len(done) == 3, wait=3.0)
    assert loop.time() - cut < 2.0
    assert sorted(done) == ["c1", "c2", "c3"]
    assert len(running.fake.calls("GET", "/playbacks/")) == 3
