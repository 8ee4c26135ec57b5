"""Text to telephone audio with pyttsx3 over espeak-ng, on one worker thread per process.

pyttsx3 is synchronous and its engine is not thread-safe (espeak-ng itself initialises once per
process), so every synthesis runs on a single dedicated thread that owns the one engine. Callers on any
thread block on ``synthesize``; asyncio code runs it off the event loop (see ``TtsCache``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ivr_engine.prompts.audio import WavInfo, convert_for_asterisk
from ivr_engine.prompts.errors import SynthesisError, SynthesizerUnavailable

__all__ = ["EspeakSynthesizer", "Synthesizer", "VoiceSettings", "content_hash"]

log = logging.getLogger(__name__)

INSTALL_HINT = "run sip-lab/install"
# Language codes whose espeak-ng voice goes by another name.
# Mandarin: espeak-ng's "cmn" voice turns characters into pinyin and then reads that as English
# ("ni3" -> "nee three"); "cmn-latn-pinyin" reads characters and pinyin as Mandarin.
_VOICE_ALIASES = {
    "zh": "cmn-latn-pinyin",
    "zh_cn": "cmn-latn-pinyin",
    "pt_br": "pt-br",
    "en_us": "en-us",
    "en_gb": "en",
}


@dataclass(frozen=True)
class VoiceSettings:
    """How prompts sound; part of every prompt's hash, so changing it rebuilds the audio."""

    rate: int = 160
    volume: float = 1.0


class Synthesizer(Protocol):
    """Turns text into an Asterisk-playable wav. Implementations must be safe to call from any thread."""

    def voice_key(self, lang: str) -> str:
        """Identifies the voice and its settings for ``lang``; folded into content hashes."""
        ...

    def synthesize(self, text: str, lang: str, target: Path) -> WavInfo:
        """Write ``text`` spoken in ``lang`` to ``target`` (8 kHz mono 16-bit wav); blocking."""
        ...


def content_hash(text: str, lang: str, voice_key: str) -> str:
    """The identity of a piece of audio: same text, language and voice -> same file."""
    return hashlib.sha256("\x1f".join((voice_key, lang, text)).encode("utf-8")).hexdigest()


class EspeakSynthesizer:
    """pyttsx3 (espeak-ng driver) on the process's single speech thread, converted with pydub."""

    def __init__(self, voice: VoiceSettings | None = None) -> None:
        self.voice = voice or VoiceSettings()

    def voice_key(self, lang: str) -> str:
        return f"pyttsx3-espeak-ng/{_voice_name(lang)}/rate={self.voice.rate}/volume={self.voice.volume}"

    def synthesize(self, text: str, lang: str, target: Path) -> WavInfo:
        if not text.strip():
            raise SynthesisError("nothing to say: the text is empty")
        return _SpeechThread.get().run(self.voice, text, lang, target)


class _SpeechThread:
    """The one thread (and the one pyttsx3 engine) that speaks for this process."""

    _instance: _SpeechThread | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ivr-tts")
        self._engine: Any = None

    @classmethod
    def get(cls) -> _SpeechThread:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def run(self, voice: VoiceSettings, text: str, lang: str, target: Path) -> WavInfo:
        return self._executor.submit(self._speak, voice, text, lang, target).result()

    def _speak(self, voice: VoiceSettings, text: str, lang: str, target: Path) -> WavInfo:
        engine = self._engine_or_start()
        voice_id = _resolve_voice(engine, lang)
        engine.setProperty("voice", voice_id)
        engine.setProperty("rate", voice.rate)
        engine.setProperty("volume", voice.volume)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="ivr-tts-") as scratch:
            raw = Path(scratch) / "espeak.wav"
            for _attempt in range(SYNTH_ATTEMPTS):
                # The espeak driver prints "Audio saved to ..." on stdout; keep it out of CLI output.
                with contextlib.redirect_stdout(io.StringIO()):
                    engine.save_to_file(text, str(raw))
                    engine.runAndWait()
                if _audio_written(raw):
                    break
            else:
                raise SynthesisError(f"espeak-ng produced no audio for {text[:40]!r} ({lang})")
            staged = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            try:
                info = convert_for_asterisk(raw, staged)
                if info.rms == 0.0:
                    raise SynthesisError(f"espeak-ng produced silence for {text[:40]!r} ({lang})")
                os.replace(staged, target)
            finally:
                staged.unlink(missing_ok=True)
        return info

    def _engine_or_start(self) -> Any:
        if self._engine is None:
            try:
                import pyttsx3

                self._engine = pyttsx3.init("espeak")
            except Exception as exc:  # pyttsx3 raises bare RuntimeError/OSError/ImportError variants
                raise SynthesizerUnavailable(
                    f"pyttsx3 cannot start espeak-ng ({exc}): {INSTALL_HINT}"
                ) from exc
        return self._engine


SYNTH_ATTEMPTS = 3
AUDIO_WAIT_S = 2.0


def _audio_written(raw: Path) -> bool:
    """Whether the driver has written ``raw``. pyttsx3's espeak driver can return from
    ``runAndWait`` before its callback saves the file (seen on a fresh engine with long text): give
    it a moment, and let the caller try again if nothing comes."""
    deadline = time.monotonic() + AUDIO_WAIT_S
    while time.monotonic() < deadline:
        if raw.is_file() and raw.stat().st_size > 44:
            return True
        time.sleep(0.05)
    return False


def _voice_name(lang: str) -> str:
    return _VOICE_ALIASES.get(lang, lang.replace("_", "-"))


def _resolve_voice(engine: Any, lang: str) -> str:
    """The espeak-ng voice id for a language code (``en`` -> ``gmw/en``); espeak ignores unknown names."""
    wanted = _voice_name(lang)
    voices = engine.getProperty("voices")
    for voice in voices:
        if str(voice.id).rsplit("/", 1)[-1] == wanted:
            return str(voice.id)
    for voice in voices:
        if wanted in (voice.languages or []):
            return str(voice.id)
    raise SynthesisError(f"espeak-ng has no voice for language {lang!r}")
