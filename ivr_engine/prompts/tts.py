"""Runtime text-to-speech for templated and dynamic prompt text, cached on disk.

The ARI media resolver calls ``await cache.synthesize(text, lang)`` and plays
``sound_uri(path)``. Identical text in the same language and voice is synthesised once: later calls
find the file, and calls that arrive while it is being made wait for that one synthesis.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from ivr_engine.prompts.catalogue import LANG_PATTERN
from ivr_engine.prompts.errors import SynthesisError
from ivr_engine.prompts.synth import EspeakSynthesizer, Synthesizer, content_hash

__all__ = ["CACHE_DIR_MODE", "TtsCache", "default_cache_dir", "sound_uri"]

log = logging.getLogger(__name__)


CACHE_DIR_MODE = 0o750
"""Owner and group (the Asterisk that plays the files); never others."""


def default_cache_dir(state_dir: Path) -> Path:
    """Where runtime TTS lives unless configured: ``<state_dir>/tts``."""
    return state_dir / "tts"


def sound_uri(path: Path) -> str:
    """The ARI media URI that plays a wav file: ``sound:/abs/path`` without the extension."""
    return f"sound:{path.resolve().with_suffix('')}"


class TtsCache:
    """Synthesises text to ``<cache_dir>/<lang>/<hash>.wav`` once; safe under concurrent requests.

    One instance belongs to one event loop. Synthesis runs off the loop (the synthesiser blocks).
    """

    def __init__(self, cache_dir: Path, synthesizer: Synthesizer | None = None) -> None:
        self.cache_dir = cache_dir
        self.synthesizer: Synthesizer = synthesizer or EspeakSynthesizer()
        self._pending: dict[Path, asyncio.Task[Path]] = {}

    def path_for(self, text: str, lang: str) -> Path:
        """Where ``text`` in ``lang`` is (or will be) cached."""
        if not LANG_PATTERN.fullmatch(lang):
            raise SynthesisError(f"not a language code: {lang!r}")
        key = content_hash(_normalise(text), lang, self.synthesizer.voice_key(lang))
        return (self.cache_dir / lang / f"{key}.wav").resolve()

    def _close_folder(self, folder: Path) -> None:
        """Spoken text holds customer data (balances, order numbers): the cache and its language folders
        are open to their owner and group (Asterisk reads the files) and closed to everyone else, also
        when an earlier version made them world-readable."""
        for each in (self.cache_dir, folder):
            each.mkdir(mode=CACHE_DIR_MODE, parents=True, exist_ok=True)
            if each.stat().st_mode & 0o777 != CACHE_DIR_MODE:
                each.chmod(CACHE_DIR_MODE)

    def for_language(self, lang: str) -> Callable[[str], Awaitable[Path]]:
        """A one-argument synthesiser for ``lang``, the shape the ARI media resolver takes."""

        async def speak(text: str) -> Path:
            return await self.synthesize(text, lang)

        return speak

    async def synthesize(self, text: str, lang: str) -> Path:
        """The absolute path of an 8 kHz mono 16-bit wav speaking ``text``; raises ``SynthesisError``."""
        spoken = _normalise(text)
        if not spoken:
            raise SynthesisError("nothing to say: the text is empty")
        path = self.path_for(spoken, lang)
        if path.is_file():
            return path
        task = self._pending.get(path)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._render(spoken, lang, path))
            self._pending[path] = task
            task.add_done_callback(self._forget)
        # A caller that hangs up (is cancelled) must not cancel the synthesis others are waiting for.
        return await asyncio.shield(task)

    async def _render(self, text: str, lang: str, path: Path) -> Path:
        log.debug("tts %s: %r", lang, text)
        await asyncio.to_thread(self._close_folder, path.parent)
        await asyncio.to_thread(self.synthesizer.synthesize, text, lang, path)
        return path

    def _forget(self, task: asyncio.Task[Path]) -> None:
        for path, pending in list(self._pending.items()):
            if pending is task:
                del self._pending[path]
        if not task.cancelled() and task.exception() is not None:
            log.debug("tts failed: %s", task.exception())


def _normalise(text: str) -> str:
    return " ".join(text.split())
