"""The default media resolver: catalogue prompts, core sounds, Say kinds, TTS, silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_engine.ari.media import default_resolver, say_date, say_money, silence_uris
from ivr_engine.channel import ChannelError, Prompt, Say, SayKind, Silence, Tts


def real(path: Path) -> Path:
    return path.resolve()


async def test_catalogue_prompt_then_core_sound(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "welcome.wav").write_bytes(b"RIFF")
    core = tmp_path / "core"
    (core / "en").mkdir(parents=True)
    (core / "en" / "hello-world.gsm").write_bytes(b"x")
    resolve = default_resolver(tmp_path, "en", core_sounds_dir=core)
    assert await resolve(Prompt("welcome")) == [f"sound:{real(tmp_path)}/en/welcome"]
    assert await resolve(Prompt("hello-world")) == ["sound:hello-world"]
    with pytest.raises(ChannelError, match="missing"):
        await resolve(Prompt("nothing"))


async def test_say_kinds(tmp_path: Path) -> None:
    resolve = default_resolver(tmp_path)
    assert await resolve(Say(SayKind.NUMBER, "42")) == ["number:42"]
    assert await resolve(Say(SayKind.DIGITS, "123")) == ["digits:123"]
    assert await resolve(Say(SayKind.CHARACTERS, "ab")) == ["characters:ab"]


async def test_dtmf_keys_are_said_star_pound_and_letters(tmp_path: Path) -> None:
    resolve = default_resolver(tmp_path)
    assert await resolve(Say(SayKind.DIGITS, "1*2#")) == ["digits:1*2#"]  # digits: says star and pound
    assert await resolve(Say(SayKind.DIGITS, "1A*D")) == ["characters:1A*D"]  # digits: would skip letters


def test_money_and_date_use_core_sounds() -> None:
    assert say_money("12.34") == ["number:12", "sound:digits/dollars", "sound:vm-and", "number:34"]
    assert say_money("5") == ["number:5", "sound:digits/dollars"]
    assert say_date("2024-03-23") == [
        "sound:digits/day-6", "sound:digits/mon-2", "sound:digits/20", "sound:digits/h-3", "number:2024"
    ]
    with pytest.raises(ChannelError):
        say_money("twelve")
    with pytest.raises(ChannelError):
        say_date("23/03/2024")


def test_silence_is_made_of_core_silence_files() -> None:
    assert silence_uris(0.2) == ["sound:silence/1"]
    assert silence_uris(12) == ["sound:silence/10", "sound:silence/2"]


async def test_tts_uses_injected_synthesiser(tmp_path: Path) -> None:
    async def synth(text: str) -> Path:
        return tmp_path / f"{len(text)}.wav"

    assert await default_resolver(tmp_path, synthesiser=synth)(Tts("hello")) == [f"sound:{tmp_path}/5"]
    with pytest.raises(ChannelError, match="text-to-speech"):
        await default_resolver(tmp_path)(Tts("hello"))
    assert await default_resolver(tmp_path)(Silence(1)) == ["sound:silence/1"]


async def test_unbuilt_prompt_is_spoken_from_its_catalogue_text(tmp_path: Path) -> None:
    spoken: list[str] = []

    async def synth(text: str) -> Path:
        spoken.append(text)
        return tmp_path / "tts" / "abc.wav"

    resolve = default_resolver(tmp_path, "en", synthesiser=synth, core_sounds_dir=tmp_path / "core")
    assert await resolve(Prompt("not_built", "Please hold.")) == [f"sound:{real(tmp_path)}/tts/abc"]
    assert spoken == ["Please hold."]
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "not_built.wav").write_bytes(b"RIFF")
    assert await resolve(Prompt("not_built", "Please hold.")) == [f"sound:{real(tmp_path)}/en/not_built"]
    with pytest.raises(ChannelError, match="missing"):
        await resolve(Prompt("no_text"))


async def test_at_once_knows_what_needs_no_waiting_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "welcome.wav").write_bytes(b"RIFF")

    async def synth(text: str) -> Path:
        return tmp_path / "tts" / "x.wav"

    resolve = default_resolver(tmp_path, "en", synthesiser=synth, core_sounds_dir=tmp_path / "core")
    assert resolve.at_once(Prompt("welcome")) is None  # not looked up yet: a file check
    assert await resolve(Prompt("welcome")) == [f"sound:{real(tmp_path)}/en/welcome"]
    assert resolve.at_once(Prompt("welcome")) == [f"sound:{real(tmp_path)}/en/welcome"]
    assert resolve.at_once(Prompt("welcome", lang="zh")) is None  # another language's file
    assert resolve.at_once(Say(SayKind.MONEY, "12.34")) == say_money("12.34")
    assert resolve.at_once(Say(SayKind.DIGITS, "1A")) == ["characters:1A"]
    assert resolve.at_once(Silence(2)) == ["sound:silence/2"]
    assert resolve.at_once(Tts("hello")) is None  # synthesised
    assert resolve.at_once(Say(SayKind.MONEY, "12.34", lang="zh")) is None  # Mandarin values are synthesised
    assert resolve.at_once(Say(SayKind.MONEY, "twelve")) is None  # the awaited path says what is wrong
    with pytest.raises(ChannelError):
        await resolve(Say(SayKind.MONEY, "twelve"))
