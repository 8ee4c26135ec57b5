"""No unbounded wait: a playback or recording whose end event is lost (a dropped WebSocket) is checked
over REST once its media length (plus a margin) has passed, or at once on a ``Recheck``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ivr_engine.ari.channel import AriChannel, WaitBounds
from ivr_engine.ari.events import ChannelSnapshot, Recheck
from ivr_engine.ari.media import default_resolver
from ivr_engine.channel import CallerHungUp

if TYPE_CHECKING:
    from .conftest import Live

BOUNDS = WaitBounds(playback_margin=0.2, recording_margin=0.2, recheck=0.1)


class FixedLengths:
    """Every playback is said to last ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.value = seconds
        self.asked: list[list[str]] = []

    async def seconds(self, uris: Sequence[str]) -> float:
        self.asked.append(list(uris))
        return self.value


def bounded_channel(live: Live, lengths: FixedLengths, channel_id: str = "c1") -> AriChannel:
    live.fake.add_channel(channel_id, caller="555")
    return AriChannel(
        live.client, ChannelSnapshot(channel_id, caller_number="555"), live.router.open(channel_id),
        default_resolver(Path("/nonexistent-sounds")), recordings_dir=Path("/spool/rec"),
        lengths=lengths, bounds=BOUNDS,
    )  # fmt: skip


async def test_lost_playback_finished_is_checked_after_the_media_length_and_the_call_carries_on(
    live: Live,
) -> None:
    live.fake.playback_seconds = 0.3
    live.fake.lost_events = {"PlaybackFinished"}
    lengths = FixedLengths(0.3)
    channel = bounded_channel(live, lengths)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await asyncio.wait_for(channel.play_uris(["sound:hello"]), 3) is None
    took = loop.time() - started
    assert 0.45 <= took < 1.5, took  # length 0.3 + margin 0.2, then one GET
    (looked,) = live.fake.calls("GET", "/playbacks/")
    assert looked.path.startswith("/playbacks/pb-")
    assert lengths.asked == [["sound:hello"]]


async def test_a_playback_still_playing_past_its_estimate_is_waited_for_again(live: Live) -> None:
    live.fake.playback_seconds = 0.8  # the estimate below is short: Asterisk is still playing
    live.fake.lost_events = {"PlaybackFinished"}
    channel = bounded_channel(live, FixedLengths(0.1))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(channel.play_uris(["sound:hello"]), 3)
    assert loop.time() - started >= 0.8  # never cut short: ARI said "playing" until it ended
    assert len(live.fake.calls("GET", "/playbacks/")) >= 3


async def test_an_event_arriving_in_time_needs_no_rest_check(live: Live) -> None:
    live.fake.playback_seconds = 0.1
    channel = bounded_channel(live, FixedLengths(0.1))
    await asyncio.wait_for(channel.play_uris(["sound:hello"]), 3)
    assert not live.fake.calls("GET", "/playbacks/")


async def test_playback_and_channel_both_gone_means_the_caller_hung_up(live: Live) -> None:
    live.fake.playback_seconds = 30
    live.fake.lost_events = {"PlaybackFinished", "StasisEnd", "ChannelDestroyed", "ChannelHangupRequest"}
    channel = bounded_channel(live, FixedLengths(0.1))
    playing = asyncio.create_task(channel.play_uris(["sound:hello"]))
    await asyncio.sleep(0.05)
    await live.fake.caller_hangup("c1")  # its events are lost
    live.fake.media.playbacks.clear()  # the playback went with the channel
    with pytest.raises(CallerHungUp):
        await asyncio.wait_for(playing, 3)
    assert live.fake.calls("GET", "/channels/c1")


async def test_recheck_verifies_at_once_instead_of_waiting_out_a_long_estimate(live: Live) -> None:
    live.fake.playback_seconds = 0.1
    live.fake.lost_events = {"PlaybackFinished"}
    channel = bounded_channel(live, FixedLengths(60.0))
    loop = asyncio.get_running_loop()
    started = loop.time()
    playing = asyncio.create_task(channel.play_uris(["sound:long"]))
    await asyncio.sleep(0.05)
    live.router.deliver(Recheck("c1"))  # still playing: the wait goes on, not cut to `recheck`
    await asyncio.sleep(0.3)
    assert not playing.done()
    live.router.deliver(Recheck("c1"))  # finished by now (its event lost): the call carries on
    await asyncio.wait_for(playing, 2)
    assert loop.time() - started < 1.5
    assert len(live.fake.calls("GET", "/playbacks/")) == 2


async def test_lost_recording_finished_is_checked_after_the_maximum_length(live: Live) -> None:
    live.fake.record_seconds = 0.2
    live.fake.lost_events = {"RecordingFinished"}
    channel = bounded_channel(live, FixedLengths(0.1))
    loop = asyncio.get_running_loop()
    started = loop.time()
    recording = await asyncio.wait_for(channel.record(name="vm-1", max_seconds=0.3, beep=False), 3)
    assert 0.5 <= loop.time() - started < 2.0  # max 0.3 + margin 0.2, then one GET
    assert recording.name == "vm-1"
    assert recording.path == "/spool/rec/vm-1.wav"
    assert live.fake.calls("GET", "/recordings/live/vm-1")


async def test_a_recording_still_running_is_waited_for_again(live: Live) -> None:
    live.fake.record_seconds = 0.7  # Asterisk records longer than the bound expects
    live.fake.lost_events = {"RecordingFinished"}
    channel = bounded_channel(live, FixedLengths(0.1))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(channel.record(name="vm-2", max_seconds=0.1, beep=False), 3)
    assert loop.time() - started >= 0.7
    assert len(live.fake.calls("GET", "/recordings/live/vm-2")) >= 2


async def test_after_a_recheck_a_stopped_playbacks_lost_end_is_no_longer_awaited(live: Live) -> None:
    """A barge-in stop leaves its playback's end to come later (to be skipped); if the WebSocket dropped
    meanwhile, that end may be lost: after the reconnect's ``Recheck`` the next playback with the same id
    must not wait for it (its own end would be skipped in its place, and the call wait for the bound)."""
    live.fake.playback_seconds = 30
    live.fake.stop_seconds = 30  # the stopped playback's end never comes: lost with the drop
    channel = bounded_channel(live, FixedLengths(5.0))
    first = asyncio.create_task(channel.play_uris(["sound:hello"], barge_in=True))
    await asyncio.sleep(0.05)
    await live.fake.dtmf("c1", "5")
    assert await asyncio.wait_for(first, 1) is not None
    live.fake.playback_seconds = 0.05
    await asyncio.wait_for(channel.play_uris(["sound:hello"]), 3)  # the other id
    live.router.deliver(Recheck("c1"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(channel.play_uris(["sound:hello"]), 8)  # the stopped one's id again
    assert loop.time() - started < 1.0  # its own end, not the bound (5 s + margin) and a REST check
    assert not live.fake.calls("GET", "/playbacks/")


async def test_an_overdue_end_that_comes_late_is_not_taken_for_a_later_playbacks(live: Live) -> None:
    """Past its bound ARI says the playback is gone and the call carries on; its PlaybackFinished, only
    late, comes later still: the next playback with the same id must not end on it."""
    live.fake.playback_seconds = 0.1
    live.fake.late_events = {"PlaybackFinished": 1.0}  # every end reaches the service a second late
    lengths = FixedLengths(0.1)
    channel = bounded_channel(live, lengths)
    await asyncio.wait_for(channel.play_uris(["sound:hello"]), 3)  # overdue: asked, gone
    await asyncio.wait_for(channel.play_uris(["sound:hello"]), 3)  # the other id, the same way
    live.fake.playback_seconds = lengths.value = 2.0
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(channel.play_uris(["sound:hello"]), 5)  # the first id again
    assert loop.time() - started >= 2.0  # the first playback's late end (about 0.5 s in) was skipped
