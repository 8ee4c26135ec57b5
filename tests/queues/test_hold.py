"""What a waiting caller hears (fake ARI): position and expected wait with the callback offer, otherwise
the reassurance, each followed by music on hold that is stopped before the next prompt and before the
caller is handed on (agent, callback, overflow); the callback key works during the music; the hold
prompts are in the prompt catalogue with the texts the runtime falls back to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from acd.live import HoldOptions
from acd.live.hold import (
    QUEUE_CALLBACK_CONFIRMED,
    QUEUE_CALLBACK_OFFER,
    QUEUE_HOLD,
    announcement,
    hold_cycle,
)
from acd.records.rows import QueueOutcome
from ivr_engine.channel import Prompt, Say, SayKind
from ivr_engine.config import PROJECT_ROOT
from ivr_engine.prompts import catalogue_path, load_catalogue
from tests.queues.hold_timeline import BRIDGED, MUSIC_OFF, MUSIC_ON, music_during_prompts

if TYPE_CHECKING:
    from .conftest import Lab


def uri(lab: Lab, prompt: Prompt) -> str:
    return f"sound:{(lab.sounds / 'en' / prompt.id).resolve()}"


def test_hold_cycle_is_announcement_and_callback_offer_when_due_else_the_reassurance() -> None:
    options = HoldOptions()
    announced = [Prompt("queue-thereare"), Say(SayKind.NUMBER, "2")]
    assert hold_cycle(options, announced) == [*announced, QUEUE_CALLBACK_OFFER]
    assert hold_cycle(options) == [QUEUE_HOLD]
    assert (options.music_class, options.music_seconds) == ("default", 8.0)


def test_announcement_says_position_and_expected_wait_in_whole_minutes() -> None:
    assert announcement(3, 150) == [
        Prompt("queue-thereare"), Say(SayKind.NUMBER, "3"),
        Prompt("queue-holdtime"), Say(SayKind.NUMBER, "3"), Prompt("queue-minutes"),
    ]  # fmt: skip
    assert announcement(1, 10)[-2:] == [Say(SayKind.NUMBER, "1"), Prompt("queue-minute")]
    assert announcement(2, None) == [Prompt("queue-thereare"), Say(SayKind.NUMBER, "2")]


def test_hold_prompts_are_in_the_catalogue_with_the_fallback_texts() -> None:
    catalogue = load_catalogue(catalogue_path(PROJECT_ROOT / "sounds"))
    for prompt in (QUEUE_HOLD, QUEUE_CALLBACK_OFFER, QUEUE_CALLBACK_CONFIRMED):
        assert catalogue.text(prompt.id, "en") == prompt.text
    assert "press 1" in catalogue.text(QUEUE_CALLBACK_OFFER.id, "en")
    assert HoldOptions().callback_key.value == "1"


async def paused_lab(start_lab: Any, **settings: Any) -> Lab:
    """A lab whose only agent is logged in but paused: callers wait (nobody staffed: no wait to say)."""
    lab: Lab = await start_lab(**settings)
    await lab.runtime.login("1001")
    await lab.runtime.pause("1001", "lunch")
    return lab


async def test_waiting_caller_hears_announcement_and_offer_then_music_and_reassurance(start_lab: Any) -> None:
    lab = await paused_lab(start_lab)
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: lab.timeline("c1").count(MUSIC_ON) >= 3)
    offer, hold = uri(lab, QUEUE_CALLBACK_OFFER), uri(lab, QUEUE_HOLD)
    assert lab.timeline("c1")[:7] == [
        f"sound:queue-thereare,number:1,{offer}", MUSIC_ON, MUSIC_OFF,
        hold, MUSIC_ON, MUSIC_OFF,  # announce interval 30 s: the reassurance in between
        hold,
    ]  # fmt: skip
    assert not any("silence" in step for step in lab.timeline("c1"))
    await lab.fake.caller_hangup("c1")
    await lab.until(lambda: "c1" in lab.outcomes)
    assert lab.timeline("c1")[-1] == MUSIC_ON  # gone with the channel: no stop sent to a dead channel
    assert lab.fake.moh == {}


async def test_music_stops_before_every_announcement(start_lab: Any) -> None:
    lab = await paused_lab(start_lab, announce_interval=0.2)
    await lab.fake.incoming("c1", "100")
    offer = uri(lab, QUEUE_CALLBACK_OFFER)
    await lab.until(lambda: sum(offer in media for media in lab.timeline("c1")) >= 3)
    timeline = lab.timeline("c1")
    announcements = [i for i, step in enumerate(timeline) if offer in step]
    assert all(step.startswith("sound:queue-thereare,number:1,") for step in map(timeline.__getitem__,
                                                                              announcements))
    assert all(timeline[i - 2 : i] == [MUSIC_ON, MUSIC_OFF] for i in announcements[1:]), timeline
    assert music_during_prompts(timeline) == []
    await lab.fake.caller_hangup("c1")


async def test_key_1_during_the_music_books_the_callback_and_stops_the_music(start_lab: Any) -> None:
    lab = await paused_lab(start_lab, hold=HoldOptions(music_seconds=30))
    await lab.fake.incoming("c1", "100", caller="555")
    await lab.until(lambda: lab.fake.moh == {"c1": "default"})
    await lab.fake.dtmf("c1", "1")
    await lab.until(lambda: "c1" in lab.outcomes)
    await lab.runtime.drain()
    assert lab.outcomes["c1"] == "callback"
    assert lab.timeline("c1")[-3:] == [MUSIC_ON, MUSIC_OFF, uri(lab, QUEUE_CALLBACK_CONFIRMED)]
    assert [f["number"] for f in lab.facts.of("callback")] == ["555"]
    assert [f["outcome"] for f in lab.facts.of("ended")] == [QueueOutcome.CALLBACK]


async def test_other_keys_during_the_music_do_not_cut_it_short(start_lab: Any) -> None:
    lab = await paused_lab(start_lab, hold=HoldOptions(music_seconds=30), max_wait=1.0)
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: lab.fake.moh == {"c1": "default"})
    await lab.fake.dtmf("c1", "7")
    await lab.until(lambda: "c1" in lab.outcomes)
    assert lab.outcomes["c1"] == "overflow"
    assert lab.timeline("c1")[-2:] == [MUSIC_ON, MUSIC_OFF]  # one stretch of music, ended by the overflow


async def test_key_1_after_the_offer_books_the_callback_and_confirms_it(start_lab: Any) -> None:
    lab = await paused_lab(start_lab)
    await lab.fake.incoming("c1", "100", caller="555")
    offer = uri(lab, QUEUE_CALLBACK_OFFER)
    await lab.until(lambda: any(offer in media for media in lab.played("c1")))
    await lab.fake.dtmf("c1", "1")
    await lab.until(lambda: "c1" in lab.outcomes)
    await lab.runtime.drain()
    assert lab.outcomes["c1"] == "callback"
    assert lab.played("c1")[-1] == uri(lab, QUEUE_CALLBACK_CONFIRMED)
    assert music_during_prompts(lab.timeline("c1")) == []
    assert lab.fake.moh == {}


async def test_overflow_stops_the_music_and_is_not_confirmed_as_a_callback(start_lab: Any) -> None:
    lab = await paused_lab(start_lab, max_wait=0.5, hold=HoldOptions(music_seconds=30))
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: "c1" in lab.outcomes)
    assert lab.outcomes["c1"] == "overflow"
    assert lab.timeline("c1")[-2:] == [MUSIC_ON, MUSIC_OFF]
    assert lab.fake.moh == {}
    assert not any(uri(lab, QUEUE_CALLBACK_CONFIRMED) in media for media in lab.played("c1"))


async def test_music_stops_before_the_caller_is_bridged_to_the_agent(start_lab: Any) -> None:
    lab = await paused_lab(start_lab, hold=HoldOptions(music_seconds=30))
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: lab.fake.moh == {"c1": "default"})
    await lab.runtime.ready("1001")
    await lab.until(lambda: lab.legs("c1"))
    assert lab.fake.moh == {"c1": "default"}  # still waiting while the agent's phone rings
    await lab.agent_answers(lab.legs("c1")[0][0], "c1")
    await lab.until(lambda: BRIDGED in lab.timeline("c1"))
    assert lab.timeline("c1")[-3:] == [MUSIC_ON, MUSIC_OFF, BRIDGED]
    assert lab.fake.moh == {}
    await lab.fake.caller_hangup("c1")
    await lab.until(lambda: "c1" in lab.outcomes)


async def test_refused_music_leaves_the_caller_on_silence_with_the_callback_key(start_lab: Any) -> None:
    lab = await paused_lab(start_lab)
    lab.fake.errors[("POST", "/channels/c1/moh")] = (500, "Internal Server Error")
    await lab.fake.incoming("c1", "100")
    hold = uri(lab, QUEUE_HOLD)
    await lab.until(lambda: lab.played("c1").count(hold) >= 2)
    assert len(lab.fake.calls("POST", "/channels/c1/moh")) == 1  # refused once: not asked again
    assert lab.fake.calls("DELETE", "/channels/c1/moh") == []
    assert [c.id for c in lab.runtime.waiting_calls()] == ["c1"]
    await lab.fake.dtmf("c1", "1")
    await lab.until(lambda: "c1" in lab.outcomes)
    assert lab.outcomes["c1"] == "callback"


async def test_unplayable_hold_audio_falls_back_to_music_and_the_caller_keeps_waiting(start_lab: Any) -> None:
    lab = await paused_lab(start_lab)
    (lab.sounds / "en" / f"{QUEUE_HOLD.id}.wav").unlink()  # not built, and no TTS in this service
    await lab.fake.incoming("c1", "100", caller="555")
    await lab.until(lambda: lab.timeline("c1").count(MUSIC_ON) >= 3)
    assert [c.id for c in lab.runtime.waiting_calls()] == ["c1"]
    assert not any(uri(lab, QUEUE_HOLD) in media for media in lab.played("c1"))
    steps = lab.timeline("c1")
    music = steps[steps.index(MUSIC_ON) :]
    assert set(music) == {MUSIC_ON, MUSIC_OFF}, steps  # after the first prompt failed: music only
    await lab.fake.dtmf("c1", "1")
    await lab.until(lambda: "c1" in lab.outcomes)
    assert lab.outcomes["c1"] == "callback"
