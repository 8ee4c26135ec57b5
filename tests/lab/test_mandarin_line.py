"""The Mandarin line (200) on a real call: Alice hears the balance through the shared balance sub-flow,
and every sound Asterisk plays is Mandarin: prompts from sounds/zh, the amount synthesised by the
Mandarin voice (tts/zh), no English core number sounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_engine.lab.sipp import HangupBy

from .conftest import Lab
from .flow_calls import call_ids, finished_call, generate, node_path, place

pytestmark = pytest.mark.lab

ALICE = "15550001001"


async def test_a_call_to_200_is_mandarin_end_to_end(lab: Lab, tmp_path: Path) -> None:
    zh = lab.settings.sounds_dir / "zh"
    if not (zh / "main_menu.wav").exists():
        pytest.fail("Mandarin prompts not built: run `ivr prompts build` (make test does)")
    plan = generate(lab, tmp_path, "main_zh", "1/100200#/4321#/9/9", ALICE)
    log_offset = lab.full_log_size()
    before = call_ids(lab)

    result = await place(lab, plan)

    assert result.ok, result.describe()
    assert result.hangup_by == HangupBy.FAR_END, result.describe()
    call = await finished_call(lab, before, ALICE, "200")
    path = node_path(call)
    assert path == node_path(plan, "expected")
    assert ("balance", "say_balance", "next") in path
    assert path[-1] == ("main_zh", "goodbye", "completed")
    played = lab.played_since(log_offset)
    assert played, "nothing was played"
    assert [p.parent.name for p in played] == ["zh"] * len(played), played
    # Prompts a key interrupts before they start (the caller types ahead) are not logged as played.
    prompts = [p.stem for p in played if p.parent.resolve() == zh.resolve()]
    assert prompts[0] == "welcome", prompts
    assert "balance_is" in prompts, prompts
    assert prompts[-1] == "goodbye", prompts
    synthesised = [p for p in played if p.parent.resolve() != zh.resolve()]
    assert len(synthesised) >= 2, played  # "您好，Alice Chen。" and "1234元5角6分"
    assert all(p.parent.parent.name == "tts" for p in synthesised), synthesised
    assert await lab.leftovers() == ([], [])
