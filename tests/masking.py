"""Checking that a secret such as a PIN never shows in output, logs or rows."""

from __future__ import annotations

import re

__all__ = ["keys_listed", "shows_value"]


def shows_value(text: str, value: str) -> bool:
    """``value`` as a value of its own (``pin=4321``, ``"input": "4321"``), not digits inside a longer
    number such as a timestamp with microseconds (``t=7169.234321``, ``...:53.234321+00:00``)."""
    return re.search(rf"(?<![\d.]){re.escape(value)}(?!\d)", text) is not None


_KEY = r"([0-9A-D*#])"
_LISTED_KEY = re.compile(
    rf"""\bdigit["']?\s*[=:]\s*["']?{_KEY}"""  # serve.log ``digit=4``, events.jsonl ``"digit": "4"``
    rf"""|\bDTMF (?:begin|end) '{_KEY}'"""  # Asterisk's dtmf level: ``DTMF end '4' received on ...``
)


def keys_listed(text: str) -> str:
    """Every DTMF key a log lists one by one, in order (``digit=4 ... digit=3`` gives ``"43"``)."""
    return "".join(first or second for first, second in _LISTED_KEY.findall(text))


def shows_number(text: str, value: str) -> bool:
    """``value`` as a number of its own in a log (``pin=4321``, ``"4321"``), not inside a longer number,
    a decimal fraction, or a hex id such as ``5f4321ab`` (which random ids contain now and then)."""
    return re.search(rf"(?<![\w.-]){re.escape(value)}(?!\w)", text) is not None
