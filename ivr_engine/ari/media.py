"""Turning the interpreter's media (Prompt, Say, Tts, Silence) into Asterisk media URIs.

The resolver is what ``AriChannel`` calls before every playback. Most media need no waiting (a prompt
found before, a number, a date, silence): ``at_once`` gives their URIs there and then, and the channel
plays them without a task per item; the rest (runtime TTS, a prompt looked up for the first time) are
awaited. Rules:

Every item carries the caller's language (``lang``; "" = the service's ``language``).

- ``Prompt(id)`` -> ``sound:<sounds_dir>/<lang>/<id>`` when ``sounds/<lang>/<id>.wav`` exists (the
  prompts catalogue, 8 kHz mono); otherwise, if Asterisk ships a core sound of that name
  (``<core_sounds>/<lang>/<id>.*``), ``sound:<id>``; otherwise, when the prompt carries its catalogue
  text and a synthesiser is given, that text spoken by runtime TTS in ``lang`` (an unbuilt prompt is
  never silence); otherwise ``ChannelError`` naming the file.
- ``Say`` in a language Asterisk has no number sounds for (Mandarin): the value's text in that
  language (``ivr_engine.prompts.spoken``: ``1234元5角6分``) spoken by TTS. Otherwise:
- ``Say`` NUMBER/DIGITS/CHARACTERS -> ``number:``/``digits:``/``characters:``. DIGITS are DTMF keys:
  Asterisk's ``digits:`` says 0-9, ``*`` ("star") and ``#`` ("pound") but skips letters, so keys with
  one of A-D go as ``characters:``, which says digits, star, pound and letters alike.
- ``Say`` MONEY ``"12.34"`` -> "twelve dollars and thirty-four" from core sounds (``digits/dollars``,
  ``vm-and``); Asterisk 16's English core sounds have no "cents" file, so cents are spoken as a number.
- ``Say`` DATE ``"2024-03-05"`` -> weekday, month, ordinal day, year (``digits/day-N``, ``digits/mon-N``,
  ``digits/h-N``, ``number:YYYY``).
- ``Tts(text)`` -> the synthesiser's file for ``lang`` (absolute path without extension).
- ``Silence(s)`` -> core ``silence/N`` files (1..10 s each).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Protocol

from ivr_engine.channel import ChannelError, Media, Prompt, Say, SayKind, Tts
from ivr_engine.logs import fields
from ivr_engine.prompts.spoken import spoken_text

__all__ = [
    "CORE_SOUNDS_DIR",
    "MediaResolver",
    "Synthesiser",
    "default_resolver",
    "say_date",
    "say_money",
    "silence_uris",
]

log = logging.getLogger(__name__)

CORE_SOUNDS_DIR = Path("/usr/share/asterisk/sounds")

class MediaResolver(Protocol):
    """Turns media into Asterisk media URIs."""

    def at_once(self, media: Media) -> list[str] | None:
        """The URIs of ``media`` if they are known without waiting for anything, else ``None``."""

    def __call__(self, media: Media) -> Awaitable[list[str]]:
        """The URIs of ``media`` (``ChannelError`` if it cannot be played)."""


Synthesiser = Callable[[str], Awaitable[Path]]


def say_money(value: str) -> list[str]:
    """``"12.34"`` -> number 12, "dollars", "and", number 34 (no cents sound ships with Asterisk 16)."""
    text = value.strip().lstrip("$")
    negative = text.startswith("-")
    text = text.lstrip("-")
    whole, _, frac = text.partition(".")
    if (whole and not whole.isdigit()) or (frac and not frac.isdigit()):
        raise ChannelError(f"cannot say {value!r} as money (expected e.g. 12.34)")
    dollars = int(whole or "0")
    cents = int((frac + "00")[:2]) if frac else 0
    uris = ["sound:digits/minus"] if negative else []
    uris += [f"number:{dollars}", "sound:digits/dollars"]
    if cents:
        uris += ["sound:vm-and", f"number:{cents}"]
    return uris


def _ordinal(day: int) -> list[str]:
    if day <= 20 or day % 10 == 0:
        return [f"sound:digits/h-{day}"]
    return [f"sound:digits/{day - day % 10}", f"sound:digits/h-{day % 10}"]


def say_date(value: str) -> list[str]:
    """ISO date ``"2024-03-05"`` -> "Tuesday, March fifth, two thousand twenty four"."""
    try:
        when = date.fromisoformat(value.strip())
    except ValueError:
        raise ChannelError(f"cannot say {value!r} as a date (expected YYYY-MM-DD)") from None
    weekday = (when.weekday() + 1) % 7  # Asterisk's day-0 is Sunday
    return [
        f"sound:digits/day-{weekday}",
        f"sound:digits/mon-{when.month - 1}",
        *_ordinal(when.day),
        f"number:{when.year}",
    ]


def silence_uris(seconds: float) -> list[str]:
    """At least one second; whole seconds from core ``silence/1..10``."""
    remaining = max(1, round(seconds))
    uris: list[str] = []
    while remaining > 0:
        chunk = min(10, remaining)
        uris.append(f"sound:silence/{chunk}")
        remaining -= chunk
    return uris


def _say(say: Say) -> list[str]:
    if say.kind is SayKind.NUMBER:
        return [f"number:{say.value}"]
    if say.kind is SayKind.DIGITS:
        scheme = "characters" if any(key in "ABCD" for key in say.value) else "digits"
        return [f"{scheme}:{say.value}"]
    if say.kind is SayKind.CHARACTERS:
        return [f"characters:{say.value}"]
    if say.kind is SayKind.MONEY:
        return say_money(say.value)
    return say_date(say.value)


def default_resolver(
    sounds_dir: Path,
    language: str = "en",
    *,
    synthesiser: Synthesiser | None = None,
    core_sounds_dir: Path = CORE_SOUNDS_DIR,
    synthesisers: Callable[[str], Synthesiser] | None = None,
) -> MediaResolver:
    """The resolver the service uses; see the module docstring for the rules. ``synthesiser`` speaks
    ``language``; ``synthesisers(lang)`` gives one for another language (default: ``synthesiser``)."""
    return _Resolver(sounds_dir, language, synthesiser, core_sounds_dir, synthesisers)


class _Resolver:
    def __init__(self, sounds_dir: Path, language: str, synthesiser: Synthesiser | None,
                 core_sounds_dir: Path, synthesisers: Callable[[str], Synthesiser] | None) -> None:
        self._sounds_dir = sounds_dir
        self._language = language
        self._synthesiser = synthesiser
        self._core_sounds_dir = core_sounds_dir
        self._synthesisers = synthesisers
        self._found: dict[tuple[str, str], str] = {}
        """Prompts found before: (language, id) -> URI."""

    def at_once(self, media: Media) -> list[str] | None:
        if isinstance(media, Prompt):
            uri = self._found.get((media.lang or self._language, media.id))
            return None if uri is None else [uri]
        if isinstance(media, Say):
            try:
                text = spoken_text(media.kind, media.value, media.lang or self._language)
                return _say(media) if text is None else None
            except (ValueError, ChannelError):
                return None  # (the awaited path says what is wrong)
        if isinstance(media, Tts):
            return None
        return silence_uris(media.seconds)

    async def __call__(self, media: Media) -> list[str]:
        known = self.at_once(media)
        if known is not None:
            return known
        if isinstance(media, Prompt):
            return [await self._prompt_uri(media, media.lang or self._language)]
        if isinstance(media, Say):  # said by TTS, or not at all (the error says why)
            lang = media.lang or self._language
            try:
                text = spoken_text(media.kind, media.value, lang)
            except ValueError:
                raise ChannelError(f"cannot say {media.value!r} as {media.kind.value} in {lang}") from None
            return _say(media) if text is None else [await self._speak(text, lang)]
        if isinstance(media, Tts):
            return [await self._speak(media.text, media.lang or self._language)]
        return silence_uris(media.seconds)  # (known at once: not reached)

    def _synthesiser_for(self, lang: str) -> Synthesiser | None:
        if lang == self._language or self._synthesisers is None:
            return self._synthesiser
        return self._synthesisers(lang)

    async def _speak(self, text: str, lang: str) -> str:
        synthesise = self._synthesiser_for(lang)
        if synthesise is None:
            raise ChannelError(f"no text-to-speech configured for {text!r}")
        path = await synthesise(text)
        return f"sound:{path.resolve().with_suffix('')}"

    async def _prompt_uri(self, prompt: Prompt, lang: str) -> str:
        """A prompt not found before (``at_once`` answers for those)."""
        catalogue = (self._sounds_dir / lang / prompt.id).resolve()
        if catalogue.with_suffix(".wav").exists():
            uri = f"sound:{catalogue}"
        elif any((self._core_sounds_dir / lang).glob(f"{prompt.id}.*")):
            uri = f"sound:{prompt.id}"
        elif prompt.text and self._synthesiser_for(lang) is not None:
            log.warning(fields("prompt.not_built", prompt=prompt.id, lang=lang, fallback="tts"))
            return await self._speak(prompt.text, lang)  # not memoised: `ivr prompts build` takes over
        else:
            raise ChannelError(
                f"prompt {prompt.id!r} missing: no {catalogue.with_suffix('.wav')} and no core sound"
            )
        self._found[(lang, prompt.id)] = uri
        return uri
