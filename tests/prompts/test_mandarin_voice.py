"""Mandarin prompts are synthesised by espeak-ng's voice that reads Chinese characters as Mandarin:
its plain "cmn" voice turns them into pinyin and reads that as English ("ni3" -> "nee three")."""

from __future__ import annotations

import subprocess

import pytest
import pyttsx3

from ivr_engine.prompts.synth import _resolve_voice

pytestmark = pytest.mark.usefixtures("espeak")  # missing espeak-ng fails under CI=true, skips elsewhere


def _phonemes(voice: str, text: str) -> str:
    done = subprocess.run(
        ["espeak-ng", "-v", voice, "-q", "-x", text], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout


def test_zh_is_synthesised_by_the_pinyin_voice() -> None:
    assert _resolve_voice(pyttsx3.init("espeak"), "zh").endswith("cmn-latn-pinyin")


def test_that_voice_reads_characters_as_mandarin_and_the_plain_one_does_not() -> None:
    assert "(en)" not in _phonemes("cmn-latn-pinyin", "您好，感谢您的来电。1234元5角6分")
    assert "(en)" in _phonemes("cmn", "您好")
