"""A caller who keys nonsense and then nothing, on a real SIPp call into flows/points.yaml (103): each
mistake gets its retry message and the question again, the caller never sits in silence longer than the
node's timeout, and the flow ends at its defined exit (goodbye, then Asterisk's BYE)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_engine.config import PROJECT_ROOT
from ivr_engine.flow.loader import load_flow
from ivr_engine.flow.nodes.gather import GatherNode
from ivr_engine.flow.nodes.menu import MenuNode
from ivr_engine.lab.sipp import CallerScript, HangupBy

from .conftest import Lab
from .flow_calls import call_ids, finished_call, node_path
from .silence import silences

pytestmark = pytest.mark.lab

CALLER = "5550707"  # not a customer: nothing is looked up by caller id
PROMPTS = ("points_enter_card", "invalid_entry", "no_input", "offer_agent", "goodbye")
SILENCE_MARGIN_S = 3.0
"""Beyond a node's timeout: Asterisk's DTMF and playback latency on a busy two-core machine."""
CORE_SOUNDS = Path("/usr/share/asterisk/sounds")


async def test_invalid_then_no_input_get_retry_prompts_then_the_defined_exit(lab: Lab) -> None:
    flow = load_flow(PROJECT_ROOT / "flows" / "points.yaml")
    ask, offer = flow.nodes["ask_card"], flow.nodes["offer_agent"]
    assert isinstance(ask, GatherNode)
    assert isinstance(offer, MenuNode)
    sounds = lab.settings.sounds_dir / lab.settings.language
    unbuilt = [p for p in PROMPTS if not (sounds / f"{p}.wav").exists()]
    if unbuilt:  # the test follows what the caller hears by file name; runtime TTS names are hashes
        pytest.fail(f"prompts {', '.join(unbuilt)} not built: run `ivr prompts build` (make test does)")
    log_offset = lab.full_log_size()
    before = call_ids(lab)

    # "12#" is too short for a card number; after it the caller says nothing at all.
    result = await lab.call(CallerScript(number="103", caller_id=CALLER, digits="12#", timeout_s=150))

    assert result.ok, result.describe()
    assert result.hangup_by is HangupBy.FAR_END, result.describe()
    call = await finished_call(lab, before, CALLER, "103")
    path = node_path(call)
    assert path[0] == ("points", "start", "next")
    assert path[1:] == [
        ("points", "ask_card", "timeout"),  # the last try's failure, then on_fail
        ("points", "offer_agent", "timeout"),
        ("points", "goodbye", "completed"),
    ], path

    played = [path.stem for path in lab.played_since(log_offset)]
    ask_prompt, offer_prompt = "points_enter_card", "offer_agent"
    assert played.count(ask_prompt) == ask.retries + 1, played
    assert played.count(offer_prompt) == offer.retries + 1, played
    # The bad entry and each silence get their message, then the question again.
    first_ask = played.index(ask_prompt)
    after_ask = played[first_ask + 1 : first_ask + 5]
    assert after_ask == ["invalid_entry", ask_prompt, "no_input", ask_prompt], played
    first_offer = played.index(offer_prompt)
    assert played[first_offer + 1 : first_offer + 5] == ["no_input", offer_prompt, "no_input", offer_prompt]
    assert played[-1] == "goodbye", played

    (heard,) = (await silences(lab.paths.full_log, log_offset, CORE_SOUNDS)).values()  # one caller
    silence = max(gap.seconds for gap in heard)  # from a file's end to the next file's start
    # The caller waited out each timeout in silence, and never much longer before hearing something.
    shortest, longest = sorted((ask.timeout, offer.timeout))
    assert shortest - 1 <= silence <= longest + SILENCE_MARGIN_S, silence
    assert await lab.leftovers() == ([], [])
