"""Media lengths: the bound of a wait for the end of a playback."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from ivr_engine.ari.lengths import SECONDS_PER_KEY, UNKNOWN_SECONDS, MediaLengths, file_seconds


def write_wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\0\0" * int(seconds * rate))
    return path


def test_wav_length_comes_from_its_header(tmp_path: Path) -> None:
    assert file_seconds(write_wav(tmp_path / "a.wav", 2.5)) == pytest.approx(2.5)
    assert file_seconds(write_wav(tmp_path / "b.wav", 1.0, rate=22050)) == pytest.approx(1.0)


def test_raw_formats_are_measured_by_size(tmp_path: Path) -> None:
    (tmp_path / "x.gsm").write_bytes(b"\0" * 3300)
    (tmp_path / "y.ulaw").write_bytes(b"\0" * 4000)
    assert file_seconds(tmp_path / "x.gsm") == pytest.approx(2.0)
    assert file_seconds(tmp_path / "y.ulaw") == pytest.approx(0.5)
    assert file_seconds(tmp_path / "missing.wav") is None
    (tmp_path / "broken.wav").write_bytes(b"not a wav")
    assert file_seconds(tmp_path / "broken.wav") is None


async def test_absolute_core_and_spoken_uris_add_up(tmp_path: Path) -> None:
    prompt = write_wav(tmp_path / "prompts" / "en" / "welcome.wav", 3.0)
    core = tmp_path / "core"
    (core / "en" / "digits").mkdir(parents=True)
    (core / "en" / "digits" / "5.gsm").write_bytes(b"\0" * 1650)
    lengths = MediaLengths(core, "en")
    uris = [f"sound:{prompt.with_suffix('')}", "sound:digits/5", "digits:42", "sound:nowhere"]
    expected = 3.0 + 1.0 + 2 * SECONDS_PER_KEY + UNKNOWN_SECONDS
    assert await lengths.seconds(uris) == pytest.approx(expected)
    assert await lengths.seconds(["number:1234"]) > await lengths.seconds(["number:7"])
