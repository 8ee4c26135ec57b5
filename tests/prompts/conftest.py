"""Fixtures for the prompt tests: tmp catalogues, a counting fake synthesiser, the real espeak-ng one."""

from __future__ import annotations

import math
import os
import struct
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path

import pytest

from ivr_engine.prompts import EspeakSynthesizer, SynthesizerUnavailable, WavInfo, inspect_wav

CatalogueWriter = Callable[[str], Path]


@pytest.fixture
def sounds_dir(tmp_path: Path) -> Path:
    path = tmp_path / "sounds"
    path.mkdir()
    return path


@pytest.fixture
def write_catalogue(sounds_dir: Path) -> CatalogueWriter:
    def write(body: str) -> Path:
        path = sounds_dir / "prompts.yaml"
        path.write_text(body, encoding="utf-8")
        return path

    return write


class FakeSynthesizer:
    """Writes a short 8 kHz tone per call and records what it was asked to say; thread-safe."""

    def __init__(self, delay: float = 0.0, fail_on: str | None = None) -> None:
        self.delay = delay
        self.fail_on = fail_on
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def voice_key(self, lang: str) -> str:
        return f"fake/{lang}"

    def synthesize(self, text: str, lang: str, target: Path) -> WavInfo:
        from ivr_engine.prompts import SynthesisError

        with self._lock:
            self.calls.append((text, lang))
        if self.delay:
            time.sleep(self.delay)
        if self.fail_on is not None and self.fail_on in text:
            raise SynthesisError(f"fake failure for {text!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(target), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(8000)
            wav.writeframes(
                b"".join(struct.pack("<h", int(8000 * math.sin(i / 5))) for i in range(800))
            )
        return inspect_wav(target)

    def texts(self) -> list[str]:
        return [text for text, _ in self.calls]


@pytest.fixture
def fake_synth() -> FakeSynthesizer:
    return FakeSynthesizer()


@pytest.fixture(scope="session")
def espeak() -> EspeakSynthesizer:
    """The real pyttsx3/espeak-ng synthesiser; missing espeak-ng fails under CI=true, skips elsewhere."""
    synth = EspeakSynthesizer()
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"ivr-espeak-probe-{os.getpid()}.wav"
    try:
        synth.synthesize("probe", "en", probe)
    except SynthesizerUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"espeak-ng is required under CI: {exc}")
        pytest.skip(str(exc))
    finally:
        probe.unlink(missing_ok=True)
    return synth
