"""The caller's language is carried by the call: a flow's `defaults: {language}` while it runs, a
`set` of `language` (a menu choice), inherited by sub-flows without their own; every prompt, TTS text
and spoken value carries it to the channel; `ivr validate` checks prompts in every language a flow
can speak."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent

from ivr_engine.channel import Digits, DtmfKey, Media, Prompt, Say, Tts
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.loader import load_flow
from ivr_engine.flow.simulator import ScriptedChannel, parse_script, simulate
from ivr_engine.flow.validator import validate_paths

from .fakes import Harness

TEXTS = {
    "en": {"hello": "Hello.", "menu": "Press 8 for Chinese.", "bye": "Bye.", "sub": "Sub-flow."},
    "zh": {"hello": "您好。", "menu": "中文请按8。", "bye": "再见。", "sub": "子流程。"},
}


@dataclass
class TwoLanguages:
    texts: dict[str, dict[str, str]] = field(default_factory=lambda: TEXTS)

    def has(self, prompt_id: str, lang: str) -> bool:
        return prompt_id in self.texts.get(lang, {})

    def text(self, prompt_id: str, lang: str) -> str:
        return self.texts[lang][prompt_id]

    def ids(self, lang: str) -> list[str]:
        return list(self.texts.get(lang, {}))

    def wav_path(self, prompt_id: str, lang: str) -> Path:
        return Path("/nonexistent") / lang / f"{prompt_id}.wav"


@dataclass
class MediaChannel(ScriptedChannel):
    """A scripted channel that also keeps every media item it was given."""

    media: list[Media] = field(default_factory=list)

    async def play(self, media: Sequence[Media], *, barge_in: bool = False) -> DtmfKey | None:
        self.media.extend(media)
        return await super().play(media, barge_in=barge_in)

    async def collect(self, *, prompt: Sequence[Media] = (), **kwargs: object) -> Digits:
        self.media.extend(prompt)
        return await super().collect(prompt=prompt, **kwargs)  # type: ignore[arg-type]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(dedent(text))
    return path


async def _run(tmp_path: Path, top: str, keys: str = "") -> list[Media]:
    library, flow = FlowLibrary.for_flow(tmp_path / f"{top}.yaml")
    harness = Harness(catalogue=TwoLanguages())  # type: ignore[arg-type]
    harness.flows = [library.get(name) for name in library.names()]  # type: ignore[misc]
    channel = MediaChannel(parse_script(keys), clock=harness.clock)
    await simulate(flow, channel, harness.services(), call_id="c")
    return channel.media


def _shown(media: list[Media]) -> list[str]:
    shown = []
    for item in media:
        if isinstance(item, Prompt):
            shown.append(f"{item.lang}:{item.id}:{item.text}")
        elif isinstance(item, Tts):
            shown.append(f"{item.lang}:tts:{item.text}")
        elif isinstance(item, Say):
            shown.append(f"{item.lang}:say:{item.value}")
    return shown


SUB = """\
nodes:
  s: {type: play, prompt: sub, text: "{{ language }}", next: back}
  back: {type: return}
"""
ENGLISH_SUB = """\
defaults: {language: en}
nodes:
  s: {type: play, prompt: sub, next: back}
  back: {type: return}
"""


async def test_sub_flows_inherit_the_callers_language_unless_they_have_their_own(tmp_path: Path) -> None:
    _write(tmp_path, "sub", SUB)
    _write(tmp_path, "english", ENGLISH_SUB)
    _write(
        tmp_path,
        "top",
        """\
        defaults: {language: zh}
        nodes:
          hi: {type: play, prompt: hello, next: call_sub}
          call_sub: {type: call, flow: sub, next: call_english}
          call_english: {type: call, flow: english, next: amount}
          amount: {type: say, kind: money, value: "12.5", next: bye}
          bye: {type: hangup, prompt: bye}
        """,
    )
    assert _shown(await _run(tmp_path, "top")) == [
        "zh:hello:您好。",
        "zh:sub:子流程。",
        "zh:tts:zh",
        "en:sub:Sub-flow.",
        "zh:say:12.50",
        "zh:bye:再见。",
    ]


async def test_a_menu_choice_sets_the_language_for_the_rest_of_the_call(tmp_path: Path) -> None:
    _write(tmp_path, "sub", SUB)
    _write(
        tmp_path,
        "top",
        """\
        nodes:
          ask:
            type: menu
            prompt: menu
            choices: {"8": chinese, "0": chinese}
            on_fail: bye
          chinese: {type: set, values: {language: zh}, next: call_sub}
          call_sub: {type: call, flow: sub, next: bye}
          bye: {type: hangup, prompt: bye}
        """,
    )
    assert _shown(await _run(tmp_path, "top", "8")) == [
        "en:menu:Press 8 for Chinese.",
        "zh:sub:子流程。",
        "zh:tts:zh",
        "zh:bye:再见。",
    ]


def test_prompts_are_checked_in_every_language_a_flow_can_speak(tmp_path: Path) -> None:
    only_english = TwoLanguages({"en": TEXTS["en"], "zh": {"hello": "您好。"}})
    _write(tmp_path, "sub", SUB)
    _write(
        tmp_path,
        "top",
        "nodes:\n  go: {type: call, flow: sub, next: bye}\n  bye: {type: hangup, prompt: bye}\n",
    )
    assert validate_paths([tmp_path], catalogue=only_english).ok
    _write(
        tmp_path,
        "chinese",
        "defaults: {language: zh}\nnodes:\n  go: {type: call, flow: sub, next: bye}\n  bye: {type: hangup}\n",
    )
    errors = [
        str(p).replace(f"{tmp_path}/", "") for p in validate_paths([tmp_path], catalogue=only_english).errors
    ]
    assert errors == ["sub.yaml:2: node 's': prompt 'sub' is not in the 'zh' prompt catalogue"]


def test_a_bad_language_code_is_a_schema_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "t", "defaults: {language: Chinese!}\nnodes:\n  a: {type: hangup}\n")
    report = validate_paths([path], catalogue=None)
    assert [p.message for p in report.errors] == [
        "'language' must be a language code such as en or zh, got 'Chinese!'"
    ]
    assert load_flow(_write(tmp_path, "u", "defaults: {language: zh}\nnodes:\n  a: {type: hangup}\n"))
