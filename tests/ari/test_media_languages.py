"""Media in the caller's language: prompts from ``sounds/<lang>/``, TTS by that language's voice, and
values said the Mandarin way by TTS (Asterisk has no Mandarin number sounds)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from ivr_engine.ari.media import default_resolver
from ivr_engine.channel import ChannelError, Prompt, Say, SayKind, Tts
from ivr_engine.prompts.spoken import spoken_text

Synth = Callable[[str], Awaitable[Path]]


def _real(path: Path) -> Path:
    return path.resolve()


def _voices(tmp_path: Path, spoken: list[tuple[str, str]]) -> Callable[[str], Synth]:
    def voice(lang: str) -> Synth:
        async def speak(text: str) -> Path:
            spoken.append((lang, text))
            return tmp_path / "tts" / lang / f"{len(spoken)}.wav"

        return speak

    return voice


async def test_prompts_tts_and_values_follow_the_items_language(tmp_path: Path) -> None:
    for lang in ("en", "zh"):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "welcome.wav").write_bytes(b"RIFF")
    spoken: list[tuple[str, str]] = []
    voices = _voices(tmp_path, spoken)
    resolve = default_resolver(
        tmp_path, "en", synthesiser=voices("en"), synthesisers=voices, core_sounds_dir=tmp_path / "core"
    )
    root = _real(tmp_path)
    assert await resolve(Prompt("welcome")) == [f"sound:{root}/en/welcome"]
    assert await resolve(Prompt("welcome", lang="zh")) == [f"sound:{root}/zh/welcome"]
    assert await resolve(Prompt("welcome", lang="en")) == [f"sound:{root}/en/welcome"]
    assert await resolve(Tts("您好", "zh")) == [f"sound:{root}/tts/zh/1"]
    assert await resolve(Say(SayKind.MONEY, "1234.56", "zh")) == [f"sound:{root}/tts/zh/2"]
    assert await resolve(Say(SayKind.MONEY, "1234.56", "en")) == [
        "number:1234",
        "sound:digits/dollars",
        "sound:vm-and",
        "number:56",
    ]
    assert await resolve(Prompt("unbuilt", "请稍候。", "zh")) == [f"sound:{root}/tts/zh/3"]
    assert spoken == [("zh", "您好"), ("zh", "1234元5角6分"), ("zh", "请稍候。")]
    with pytest.raises(ChannelError, match="cannot say 'soon' as date in zh"):
        await resolve(Say(SayKind.DATE, "soon", "zh"))


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        (SayKind.NUMBER, "1234", "1234"),
        (SayKind.NUMBER, "-12", "负12"),
        (SayKind.DIGITS, "100#*", "1 0 0 井号 星号"),
        (SayKind.CHARACTERS, "A1", "A 1"),
        (SayKind.MONEY, "1234.56", "1234元5角6分"),
        (SayKind.MONEY, "87.10", "87元1角"),
        (SayKind.MONEY, "5.05", "5元零5分"),
        (SayKind.MONEY, "0.00", "0元"),
        (SayKind.MONEY, "0.40", "4角"),
        (SayKind.MONEY, "-3.5", "负3元5角"),
        (SayKind.DATE, "2026-12-01", "2 0 2 6年12月1日，星期二"),
    ],
)
def test_values_are_written_the_mandarin_way(kind: SayKind, value: str, text: str) -> None:
    assert spoken_text(kind, value, "zh") == text
    assert spoken_text(kind, value, "en") is None
