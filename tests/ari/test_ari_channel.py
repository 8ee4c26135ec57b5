"""AriChannel over the fake ARI: playback, barge-in, collect, record, hangup."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ivr_engine.ari.channel import TYPE_AHEAD_LIMIT, AriChannel
from ivr_engine.ari.fake import FakeAri
from ivr_engine.channel import CallerHungUp, ChannelError, DtmfKey, Prompt, Say, SayKind

if TYPE_CHECKING:
    from .conftest import Live


async def test_play_waits_for_playback_finished(live: Live) -> None:
    live.fake.playback_seconds = 0.2
    channel = live.channel()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await channel.play([Say(SayKind.DIGITS, "42")]) is None
    assert loop.time() - started >= 0.2
    (play,) = live.fake.calls("POST", "/channels/c1/play/")
    assert play.params["media"] == "digits:42"


async def barge_in(live: Live, channel: AriChannel, *, within: float) -> DtmfKey | None:
    """Play a long prompt that keys may barge in on, press 5 in it: the key ``play`` returns, which it
    must return ``within`` seconds."""
    playing = asyncio.create_task(channel.play([Say(SayKind.NUMBER, "7")], barge_in=True))
    await asyncio.sleep(0.1)
    await live.fake.dtmf("c1", "5")
    return await asyncio.wait_for(playing, within)


async def test_barge_in_stops_playback_and_keeps_the_key(live: Live) -> None:
    live.fake.playback_seconds = 30
    channel = live.channel()
    assert await barge_in(live, channel, within=2) is DtmfKey.FIVE
    assert len(live.fake.calls("DELETE", "/playbacks/")) == 1
    digits = await channel.collect(max_digits=1, first_timeout=0.2)
    assert digits.text == "5"


async def test_barge_in_answers_the_key_without_waiting_for_the_stopped_playbacks_end(live: Live) -> None:
    live.fake.playback_seconds = 30
    live.fake.stop_seconds = 1.5  # the stopped playback's PlaybackFinished comes this much later
    channel = live.channel()
    assert await barge_in(live, channel, within=0.5) is DtmfKey.FIVE
    assert len(live.fake.calls("DELETE", "/playbacks/")) == 1


async def test_a_stopped_playbacks_late_end_is_not_taken_for_the_next_one_with_its_id(live: Live) -> None:
    """Playback ids come round every second playback: the late PlaybackFinished of a stopped one must not
    end the playback that took its id meanwhile."""
    live.fake.playback_seconds = 30
    live.fake.stop_seconds = 0.6
    channel = live.channel()
    loop = asyncio.get_running_loop()
    assert await barge_in(live, channel, within=0.5) is DtmfKey.FIVE
    assert (await channel.collect(max_digits=1, first_timeout=0.2)).text == "5"
    live.fake.playback_seconds = 0.05
    await channel.play([Say(SayKind.NUMBER, "8")])  # the other id
    live.fake.playback_seconds = 1.0
    started = loop.time()
    await channel.play([Say(SayKind.NUMBER, "9")])  # the first one's id again; its late end comes meanwhile
    assert loop.time() - started >= 0.9
    plays = live.fake.calls("POST", "/channels/c1/play/")
    assert plays[0].path == plays[2].path != plays[1].path


async def test_a_cancelled_playbacks_late_end_is_not_taken_for_a_later_one(live: Live) -> None:
    """Hold audio is cancelled when an agent answers (its playback stopped): after the agent's call the
    same leg may hear prompts again, whose playback ids come round."""
    live.fake.playback_seconds = 30
    live.fake.stop_seconds = 0.6
    channel = live.channel()
    loop = asyncio.get_running_loop()
    holding = asyncio.create_task(channel.play([Say(SayKind.NUMBER, "7")]))
    await asyncio.sleep(0.1)
    holding.cancel()
    await asyncio.gather(holding, return_exceptions=True)
    assert len(live.fake.calls("DELETE", "/playbacks/")) == 1
    live.fake.playback_seconds = 0.05
    await channel.play([Say(SayKind.NUMBER, "8")])
    live.fake.playback_seconds = 1.0
    started = loop.time()
    await channel.play([Say(SayKind.NUMBER, "9")])
    assert loop.time() - started >= 0.9


async def test_without_barge_in_keys_are_buffered_for_collect(live: Live) -> None:
    live.fake.playback_seconds = 0.3
    channel = live.channel()
    playing = asyncio.create_task(channel.play([Say(SayKind.NUMBER, "7")]))
    await asyncio.sleep(0.05)
    await live.fake.dtmf("c1", "12")
    assert await playing is None
    assert not live.fake.calls("DELETE", "/playbacks/")
    digits = await channel.collect(max_digits=5, first_timeout=0.2, inter_timeout=0.2)
    assert digits.text == "12"
    assert digits.timed_out


async def test_collect_stops_at_terminator(live: Live) -> None:
    channel = live.channel()
    collecting = asyncio.create_task(channel.collect(max_digits=20, first_timeout=2, inter_timeout=2))
    await asyncio.sleep(0.05)
    await live.fake.dtmf("c1", "123#4")
    digits = await collecting
    assert digits.text == "123"
    assert digits.terminated
    assert not digits.timed_out


async def test_collect_stops_at_max_digits(live: Live) -> None:
    channel = live.channel()
    collecting = asyncio.create_task(channel.collect(max_digits=2, first_timeout=2))
    await asyncio.sleep(0.05)
    await live.fake.dtmf("c1", "987")
    assert (await collecting).text == "98"
    assert (await channel.collect(max_digits=1, first_timeout=0.5)).text == "7"


async def test_collect_first_timeout_with_no_keys(live: Live) -> None:
    channel = live.channel()
    loop = asyncio.get_running_loop()
    started = loop.time()
    digits = await channel.collect(max_digits=4, first_timeout=0.3, inter_timeout=5)
    assert digits.keys == ()
    assert digits.timed_out
    assert 0.3 <= loop.time() - started < 2


async def test_collect_inter_digit_timeout(live: Live) -> None:
    channel = live.channel()
    collecting = asyncio.create_task(channel.collect(max_digits=9, first_timeout=5, inter_timeout=0.3))
    await asyncio.sleep(0.05)
    await live.fake.dtmf("c1", "4")
    digits = await asyncio.wait_for(collecting, 2)
    assert digits.text == "4"
    assert digits.timed_out


async def test_collect_prompt_is_barged_in_and_key_counts(live: Live) -> None:
    live.fake.playback_seconds = 30
    channel = live.channel()
    collecting = asyncio.create_task(
        channel.collect(prompt=[Say(SayKind.NUMBER, "1")], max_digits=3, first_timeout=2, inter_timeout=2)
    )
    await asyncio.sleep(0.1)
    await live.fake.dtmf("c1", "8")
    await asyncio.sleep(0.1)
    await live.fake.dtmf("c1", "9#")
    digits = await asyncio.wait_for(collecting, 3)
    assert digits.text == "89"
    assert digits.terminated


async def test_every_operation_raises_caller_hung_up_after_hangup(live: Live) -> None:
    live.fake.playback_seconds = 30
    channel = live.channel()
    playing = asyncio.create_task(channel.play([Say(SayKind.NUMBER, "1")]))
    await asyncio.sleep(0.1)
    await live.fake.caller_hangup("c1")
    with pytest.raises(CallerHungUp):
        await asyncio.wait_for(playing, 2)
    with pytest.raises(CallerHungUp):
        await channel.answer()
    with pytest.raises(CallerHungUp):
        await channel.collect(max_digits=1)
    await channel.hangup()  # idempotent, no error


async def test_missing_channel_on_request_means_caller_hung_up(live: Live) -> None:
    channel = live.channel()
    del live.fake.channels["c1"]
    with pytest.raises(CallerHungUp):
        await channel.answer()


async def test_failed_playback_and_missing_prompt_are_channel_errors(live: Live) -> None:
    live.fake.failing_media.add("digits:1")
    channel = live.channel()
    with pytest.raises(ChannelError, match="failed"):
        await channel.play([Say(SayKind.DIGITS, "1")])
    with pytest.raises(ChannelError, match="no-such-prompt"):
        await channel.play([Prompt("no-such-prompt")])


async def test_record_ends_on_terminator_with_path_and_duration(live: Live) -> None:
    live.fake.record_seconds = 30
    channel = live.channel(recordings_dir=Path("/lab/spool/recording"))
    recording = asyncio.create_task(channel.record(name="vm-c1", max_seconds=60))
    await asyncio.sleep(0.1)
    await live.fake.dtmf("c1", "#")
    result = await asyncio.wait_for(recording, 2)
    assert result.path == "/lab/spool/recording/vm-c1.wav"
    assert result.duration == 1.5
    assert result.terminated_by is DtmfKey.POUND
    (request,) = live.fake.calls("POST", "/channels/c1/record")
    assert request.params["terminateOn"] == "#"
    assert request.params["beep"] == "true"


async def test_record_ends_at_max_duration(live: Live) -> None:
    live.fake.record_seconds = 0.1
    channel = live.channel()
    result = await asyncio.wait_for(channel.record(name="r2", max_seconds=3, beep=False), 2)
    assert result.terminated_by is None
    assert result.duration == 3.0


async def test_record_listens_for_silence_and_a_discarded_recording_is_deleted(live: Live) -> None:
    live.fake.record_seconds = 0.1
    live.fake.talking_seconds = 0.0
    channel = live.channel()
    result = await asyncio.wait_for(channel.record(name="r3", max_seconds=60, beep=False, max_silence=5), 2)
    (request,) = live.fake.calls("POST", "/channels/c1/record")
    assert request.params["maxSilenceSeconds"] == "5"
    assert result.talking == 0.0
    await channel.discard(result)
    assert live.fake.deleted_recordings == ["r3"]
    without = await asyncio.wait_for(channel.record(name="r4", max_seconds=60, beep=False), 2)
    assert without.talking is None  # not listened for: unknown


async def test_caller_hanging_up_ends_the_recording_and_keeps_it(live: Live) -> None:
    live.fake.record_seconds = 30
    channel = live.channel(recordings_dir=Path("/lab/spool/recording"))
    recording = asyncio.create_task(channel.record(name="vm-c1", max_seconds=60))
    await asyncio.sleep(0.1)
    await live.fake.caller_hangup("c1")
    result = await asyncio.wait_for(recording, 5)
    assert result.path == "/lab/spool/recording/vm-c1.wav"
    assert result.duration == 2.5
    with pytest.raises(CallerHungUp):
        await channel.play([Say(SayKind.NUMBER, "1")])


async def test_hangup_deletes_the_channel(live: Live, fake: FakeAri) -> None:
    channel = live.channel()
    await channel.hangup()
    assert "c1" not in fake.channels
    with pytest.raises(CallerHungUp):
        await channel.play([Say(SayKind.NUMBER, "1")])


async def test_type_ahead_keeps_the_first_keys_up_to_its_limit(live: Live) -> None:
    live.fake.playback_seconds = 0.5
    channel = live.channel()
    playing = asyncio.create_task(channel.play([Say(SayKind.NUMBER, "7")]))
    await asyncio.sleep(0.05)
    await live.fake.dtmf("c1", "1" * TYPE_AHEAD_LIMIT + "2" * 10)
    assert await playing is None
    digits = await channel.collect(max_digits=TYPE_AHEAD_LIMIT + 10, first_timeout=0.2, inter_timeout=0.2)
    assert digits.text == "1" * TYPE_AHEAD_LIMIT
