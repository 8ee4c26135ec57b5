"""AriChannel with media that takes time to resolve (a value synthesised at run time, as a Mandarin
balance is): what is ready plays at once, the slow part follows when ready, and a key pressed in the
first part ends the play without waiting for the rest."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ivr_engine.ari.channel import AriChannel
from ivr_engine.ari.events import ChannelSnapshot
from ivr_engine.channel import CallerHungUp, DtmfKey, Media, Prompt, Tts

if TYPE_CHECKING:
    from .conftest import Live


class SlowTts:
    """Resolves prompts at once and ``Tts`` only when ``ready`` is set, as a synthesiser under load."""

    def __init__(self) -> None:
        self.ready = asyncio.Event()
        self.started = asyncio.Event()
        self.cancelled = False

    def at_once(self, media: Media) -> list[str] | None:
        return [f"sound:{media.id}"] if isinstance(media, Prompt) else None

    async def __call__(self, media: Media) -> list[str]:
        if isinstance(media, Tts):
            self.started.set()
            try:
                await self.ready.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
            return [f"sound:/tts/{media.text}"]
        assert isinstance(media, Prompt)
        return [f"sound:{media.id}"]


def channel_with(live: Live, resolver: SlowTts) -> AriChannel:
    live.fake.add_channel("c1", caller="555")
    return AriChannel(
        live.client, ChannelSnapshot("c1", caller_number="555"), live.router.open("c1"), resolver,
        recordings_dir=Path("/spool/rec"),
    )


def played(live: Live) -> list[str]:
    return [request.params["media"] for request in live.fake.calls("POST", "/channels/c1/play/")]


async def until(check: object, wait: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not check():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_ready_prompt_plays_while_the_value_after_it_is_synthesised(live: Live) -> None:
    live.fake.playback_seconds = 0.05
    slow = SlowTts()
    channel = channel_with(live, slow)
    playing = asyncio.create_task(
        channel.play([Prompt("balance_is"), Prompt("currency"), Tts("1234元")])
    )
    await slow.started.wait()
    await until(lambda: played(live) == ["sound:balance_is,sound:currency"])
    assert not playing.done()  # the value is still to come
    slow.ready.set()
    assert await asyncio.wait_for(playing, 2) is None
    assert played(live) == ["sound:balance_is,sound:currency", "sound:/tts/1234元"]


async def test_media_ready_at_once_is_one_playback(live: Live) -> None:
    live.fake.playback_seconds = 0.01
    slow = SlowTts()
    slow.ready.set()
    channel = channel_with(live, slow)
    assert await channel.play([Prompt("balance_is"), Tts("12"), Prompt("goodbye")]) is None
    assert played(live) == ["sound:balance_is,sound:/tts/12,sound:goodbye"]


async def balance_playing(live: Live, *, playback_seconds: float, barge_in: bool = True,
                          first_part_over: bool = False) -> tuple[SlowTts, asyncio.Task[DtmfKey | None]]:
    """A play of the balance prompt and a value not synthesised yet, once the prompt's playback has
    started (``first_part_over``: and ended)."""
    live.fake.playback_seconds = playback_seconds
    slow = SlowTts()
    channel = channel_with(live, slow)
    playing = asyncio.create_task(channel.play([Prompt("balance_is"), Tts("1234元")], barge_in=barge_in))
    await until(lambda: len(played(live)) == 1 and not (first_part_over and live.fake.media.playbacks))
    return slow, playing


async def test_a_key_in_the_first_part_ends_the_play_and_drops_the_pending_value(live: Live) -> None:
    slow, playing = await balance_playing(live, playback_seconds=30)
    await live.fake.dtmf("c1", "9")
    assert await asyncio.wait_for(playing, 2) is DtmfKey.NINE
    assert slow.cancelled
    assert played(live) == ["sound:balance_is"]


async def test_a_key_while_the_value_is_still_synthesised_ends_the_play(live: Live) -> None:
    slow, playing = await balance_playing(live, playback_seconds=0.05, first_part_over=True)
    await live.fake.dtmf("c1", "3")  # the first part has finished; the value is not ready
    assert await asyncio.wait_for(playing, 2) is DtmfKey.THREE
    assert slow.cancelled
    assert played(live) == ["sound:balance_is"]


async def test_a_hangup_while_the_value_is_still_synthesised_ends_the_play(live: Live) -> None:
    slow, playing = await balance_playing(live, playback_seconds=0.05, barge_in=False, first_part_over=True)
    await live.fake.caller_hangup("c1")
    with pytest.raises(CallerHungUp):
        await asyncio.wait_for(playing, 2)
    assert slow.cancelled


async def test_media_known_at_once_play_without_being_awaited(live: Live) -> None:
    """Prompts and values that need no waiting go straight into one playback: the awaited path (a task
    per item) is only for what must be waited for."""

    class Counting(SlowTts):
        def __init__(self) -> None:
            super().__init__()
            self.awaited: list[Media] = []

        async def __call__(self, media: Media) -> list[str]:
            self.awaited.append(media)
            return await super().__call__(media)

    live.fake.playback_seconds = 0.01
    resolver = Counting()
    channel = channel_with(live, resolver)
    assert await channel.play([Prompt("balance_is"), Prompt("goodbye")]) is None
    assert played(live) == ["sound:balance_is,sound:goodbye"]
    assert resolver.awaited == []
    resolver.ready.set()
    assert await channel.play([Prompt("balance_is"), Tts("12")]) is None
    assert resolver.awaited == [Prompt("balance_is"), Tts("12")]  # one item waits: the awaited path
