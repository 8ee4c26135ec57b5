"""The prompt domain's exception tree: every failure here is a ``PromptError``."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CatalogueError",
    "PromptError",
    "SynthesisError",
    "SynthesizerUnavailable",
    "UnknownPrompt",
]


class PromptError(Exception):
    """Base of every prompt catalogue, build and text-to-speech failure."""


class CatalogueError(PromptError):
    """The catalogue file is missing or malformed; the message names the file and line."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


class SynthesisError(PromptError):
    """Text could not be turned into playable audio."""


class SynthesizerUnavailable(SynthesisError):
    """The speech engine (pyttsx3 over espeak-ng) cannot start on this machine."""


class UnknownPrompt(PromptError):
    """A prompt id (or language) that the catalogue does not hold."""

    def __init__(self, prompt_id: str, lang: str) -> None:
        self.prompt_id = prompt_id
        self.lang = lang
        super().__init__(f"no prompt {prompt_id!r} for language {lang!r} in the catalogue")
