"""Telephone audio: convert speech to what Asterisk plays (8 kHz, mono, 16-bit PCM wav) and check it.

Asterisk's wav format module only opens 8 kHz 16-bit mono files; anything else (espeak-ng writes
22,050 Hz) fails with "Unable to open format wav" in its log while the caller hears silence.
"""

from __future__ import annotations

import array
import math
import sys
import warnings
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr_engine.prompts.errors import SynthesisError

__all__ = [
    "ASTERISK_CHANNELS",
    "ASTERISK_RATE",
    "ASTERISK_SAMPLE_WIDTH",
    "WavInfo",
    "convert_for_asterisk",
    "inspect_wav",
]

ASTERISK_RATE = 8000
ASTERISK_CHANNELS = 1
ASTERISK_SAMPLE_WIDTH = 2


@dataclass(frozen=True)
class WavInfo:
    """The format of a wav file and how loud it is (RMS of 16-bit samples, 0 = silence)."""

    rate: int
    channels: int
    sample_width: int
    frames: int
    rms: float

    @property
    def seconds(self) -> float:
        return self.frames / self.rate if self.rate else 0.0

    @property
    def playable_by_asterisk(self) -> bool:
        return (self.rate, self.channels, self.sample_width) == (
            ASTERISK_RATE,
            ASTERISK_CHANNELS,
            ASTERISK_SAMPLE_WIDTH,
        )


def inspect_wav(path: Path) -> WavInfo:
    """Read a PCM wav's header and measure its loudness; raises ``SynthesisError`` if unreadable."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate, channels, width, frames = (
                wav.getframerate(),
                wav.getnchannels(),
                wav.getsampwidth(),
                wav.getnframes(),
            )
            data = wav.readframes(frames)
    except (OSError, EOFError, wave.Error) as exc:
        raise SynthesisError(f"{path}: not a readable wav file ({exc})") from exc
    return WavInfo(rate, channels, width, frames, _rms16(data) if width == 2 else 0.0)


def convert_for_asterisk(source: Path, target: Path) -> WavInfo:
    """Resample ``source`` (any PCM wav) to an 8 kHz mono 16-bit wav at ``target``; check the result."""
    segment_cls = _audio_segment()
    try:
        # pydub leaves files it opens itself unclosed: hand it our own file objects.
        with source.open("rb") as raw:
            segment = segment_cls.from_wav(raw)
        segment = (
            segment.set_frame_rate(ASTERISK_RATE)
            .set_channels(ASTERISK_CHANNELS)
            .set_sample_width(ASTERISK_SAMPLE_WIDTH)
        )
        with target.open("wb") as out:
            segment.export(out, format="wav")
    except (OSError, EOFError, wave.Error, ValueError) as exc:
        raise SynthesisError(f"cannot convert {source} for Asterisk: {exc}") from exc
    info = inspect_wav(target)
    if not info.playable_by_asterisk:
        raise SynthesisError(
            f"{target}: converted audio is {info.rate} Hz, {info.channels} channel(s), "
            f"{8 * info.sample_width}-bit; Asterisk needs 8000 Hz mono 16-bit"
        )
    return info


def _rms16(data: bytes) -> float:
    samples = array.array("h")
    samples.frombytes(data[: len(data) - len(data) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def _audio_segment() -> Any:
    """pydub's AudioSegment, imported without its two import-time warnings.

    pydub imports the stdlib ``audioop`` (deprecated in 3.11) and warns when ffmpeg is absent; we only
    read and write PCM wav, which pydub does natively, so neither applies here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*audioop.*", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="Couldn't find ffmpeg or avconv", category=RuntimeWarning)
        from pydub import AudioSegment
    return AudioSegment
