"""Checking that a secret such as a PIN never shows in output, logs or rows."""

from __future__ import annotations

import re

__all__ = ["shows_value"]


def shows_value(text: str, value: str) -> bool:
    """``value`` as a value of its own (``pin=4321``, ``"input": "4321"``), not digits inside a longer
    number such as a timestamp with microseconds (``t=7169.234321``, ``...:53.234321+00:00``)."""
    return re.search(rf"(?<![\d.]){re.escape(value)}(?!\d)", text) is not None
