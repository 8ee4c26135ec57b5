"""How long Asterisk will take to play media URIs: the bound of every wait for a PlaybackFinished.

``MediaLengths.seconds(uris)`` adds up:

- ``sound:`` files, from the file itself: an absolute ``sound:/path/name`` is looked up as
  ``/path/name.<ext>``, a core ``sound:name`` under ``<core_sounds>/<lang>/name.<ext>`` (then without the
  language). A ``.wav`` is measured from its header; raw formats from their size (``.gsm`` 1,650 bytes a
  second, ``.ulaw``/``.alaw``/``.g722`` 8,000, ``.sln`` 16,000, ``.sln16`` 32,000, ``.g729`` 1,000).
- ``digits:``/``characters:`` at ``SECONDS_PER_KEY`` a character, ``number:`` at
  ``SECONDS_PER_NUMBER_DIGIT`` a digit plus one word: estimates on the long side.
- anything else (a file not found, an unknown scheme) at ``UNKNOWN_SECONDS``.

A sound's length is read once (in a worker thread, never on the event loop) and remembered by name. A
remembered length that turned stale (a prompt rebuilt longer) costs nothing but one early look at the
playback over REST, which then finds it still playing.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

__all__ = [
    "SECONDS_PER_KEY",
    "SECONDS_PER_NUMBER_DIGIT",
    "UNKNOWN_SECONDS",
    "LengthEstimator",
    "MediaLengths",
    "file_seconds",
]

SECONDS_PER_KEY = 0.8
SECONDS_PER_NUMBER_DIGIT = 0.8
UNKNOWN_SECONDS = 5.0

_BYTES_PER_SECOND: dict[str, float] = {
    ".gsm": 1650.0,
    ".ulaw": 8000.0,
    ".alaw": 8000.0,
    ".g722": 8000.0,
    ".sln": 16000.0,
    ".sln16": 32000.0,
    ".g729": 1000.0,
}
_EXTENSIONS = (".wav", *_BYTES_PER_SECOND)


class LengthEstimator(Protocol):
    async def seconds(self, uris: Sequence[str]) -> float:
        """How long Asterisk will take to play ``uris`` one after the other."""
        ...


def file_seconds(path: Path) -> float | None:
    """The playing time of one sound file, or None when it cannot be read (blocking: call off-loop)."""
    try:
        if path.suffix == ".wav":
            with wave.open(str(path), "rb") as wav:
                frames_per_second = wav.getframerate()
                return wav.getnframes() / frames_per_second if frames_per_second > 0 else None
        bytes_per_second = _BYTES_PER_SECOND.get(path.suffix)
        return path.stat().st_size / bytes_per_second if bytes_per_second else None
    except (OSError, EOFError, wave.Error):
        return None


class MediaLengths:
    """Estimates playing times of media URIs; see the module docstring."""

    def __init__(self, core_sounds_dir: Path = Path("/usr/share/asterisk/sounds"), language: str = "en"):
        self._core = core_sounds_dir
        self._language = language
        self._known: dict[str, float | None] = {}

    async def seconds(self, uris: Sequence[str]) -> float:
        total = 0.0
        for uri in uris:
            total += await self._one(uri)
        return total

    async def _one(self, uri: str) -> float:
        scheme, _, value = uri.partition(":")
        if scheme in ("digits", "characters"):
            return SECONDS_PER_KEY * max(1, len(value))
        if scheme == "number":
            return SECONDS_PER_NUMBER_DIGIT * (1 + len(value.lstrip("-")))
        if scheme == "sound" and value:
            if value not in self._known:
                self._known[value] = await asyncio.to_thread(self._sound_seconds, value)
            found = self._known[value]
            return UNKNOWN_SECONDS if found is None else found
        return UNKNOWN_SECONDS

    def _candidates(self, name: str) -> list[Path]:
        if name.startswith("/"):
            bases = [Path(name)]
        else:
            bases = [self._core / self._language / name, self._core / name]
        return [base.with_name(base.name + ext) for base in bases for ext in _EXTENSIONS]

    def _sound_seconds(self, name: str) -> float | None:
        for path in self._candidates(name):
            seconds = file_seconds(path)
            if seconds is not None:
                return seconds
        return None
