"""Spelling hints for problems ("did you mean `prompt`?") and safe display of text from flow files."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean", "printable"]


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean `x`?)`` for the closest known word, or ``""``."""
    close = difflib.get_close_matches(word, sorted(set(known)), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def printable(text: str, limit: int = 300) -> str:
    """``text`` with control characters (ANSI escapes, newlines) escaped, cut at ``limit`` characters."""
    shown = "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
