"""What a caller hears when our side is not right, on a real SIPp call: a prompt whose audio was never
built is spoken by runtime TTS (never silence), and a flow that fails mid-call ends in the apology and
Asterisk's BYE, with the failing node logged as ``error``.

The module runs its own lab: a flows folder holding only ``broken`` (number 198) and a copy of the
sounds folder without ``records_unavailable.wav``, handed to ``ivr lab up`` as IVR_* settings.
"""

from __future__ import annotations

import array
import json
import shutil
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr_engine.lab.sipp import CallerScript, HangupBy
from ivr_engine.prompts.tts import default_cache_dir
from ivr_engine.service import APOLOGY

from .conftest import Lab, require_lab, serving_lab
from .flow_calls import call_ids, finished_call, node_path

pytestmark = pytest.mark.lab

NUMBER = "198"
CALLER = "5550808"
UNBUILT = "records_unavailable"
BROKEN_FLOW = f"""\
flow: broken
description: Lab check only. Speaks a prompt that was never built, then fails on a value it cannot say
nodes:
  hello:
    type: play
    prompt: {UNBUILT}
    next: amount
  amount:
    type: set
    values: {{amount: "twelve"}}
    next: say_it
  say_it:
    type: say
    kind: number
    value: "{{{{ amount }}}}"
    next: done
  done:
    type: hangup
    prompt: goodbye
"""


@pytest.fixture(scope="module")
def fallback_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, dict[str, str]]]:
    require_lab()
    lab = Lab.create(tmp_path_factory.mktemp("fallbacks"))
    folder = lab.settings.state_dir
    flows, sounds = folder / "flows", folder / "sounds"
    flows.mkdir()
    (flows / "broken.yaml").write_text(BROKEN_FLOW)
    shutil.copytree(lab.settings.sounds_dir, sounds)
    built = sounds / lab.settings.language / f"{UNBUILT}.wav"
    if not built.exists():  # this lab takes one built prompt away; the rest must stay real files
        pytest.fail(f"prompt {UNBUILT} not built: run `ivr prompts build` (make test does)")
    built.unlink()
    env = {
        "IVR_FLOWS_DIR": str(flows),
        "IVR_SOUNDS_DIR": str(sounds),
        "IVR_SERVICE_NUMBERS": json.dumps({NUMBER: "broken"}),
    }
    with serving_lab(lab, ("validate", str(flows)), ("db", "init"), env=env) as lab:
        yield lab, env


def _peak(path: Path) -> int:
    """Loudest sample of a 16-bit wav file."""
    with wave.open(str(path)) as wav:
        samples = array.array("h", wav.readframes(wav.getnframes()))
    return max((abs(s) for s in samples), default=0)


async def test_unbuilt_prompt_is_spoken_then_a_flow_error_ends_in_the_apology(
    fallback_lab: tuple[Lab, dict[str, str]],
) -> None:
    lab, _env = fallback_lab
    log_offset = lab.full_log_size()
    before = call_ids(lab)

    result = await lab.call(CallerScript(number=NUMBER, caller_id=CALLER, timeout_s=60))

    assert result.ok, result.describe()
    assert result.hangup_by is HangupBy.FAR_END, result.describe()
    call = await finished_call(lab, before, CALLER, NUMBER)
    assert node_path(call) == [
        ("broken", "hello", "next"),
        ("broken", "amount", "next"),
        ("broken", "say_it", "error"),
    ]
    assert call["disposition"] == "error", call

    played = lab.played_since(log_offset)
    assert len(played) == 1 + len(APOLOGY), played
    spoken, apology = played[0], played[1:]
    # The unbuilt prompt came from the runtime TTS cache, as real speech.
    assert spoken.is_relative_to(default_cache_dir(lab.settings.state_dir).resolve()), spoken
    assert _peak(spoken.with_suffix(".wav")) > 1000, spoken  # Asterisk names the format it reads
    assert [p.stem for p in apology] == [uri.removeprefix("sound:") for uri in APOLOGY], played
    serve_log = lab.paths.serve_log.read_text(errors="replace")
    assert f"prompt={UNBUILT}" in serve_log
    assert "fallback=tts" in serve_log
    assert await lab.leftovers() == ([], [])
