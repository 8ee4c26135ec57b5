"""Structured log lines: ``event key=value key="value with spaces"``, one line per call event.

Use :func:`fields` to build the message, so every line is grep- and parse-friendly::

    log.info(fields("call.started", call="c1", caller="1000", dialled="100"))
"""

from __future__ import annotations

import re

__all__ = ["fields", "parse_fields"]

_BARE = re.compile(r"^[A-Za-z0-9_.:/@+#*-]+$")
_PAIR = re.compile(r'(\w[\w.]*)=("(?:[^"\\]|\\.)*"|\S*)')


def _value(value: object) -> str:
    text = "" if value is None else str(value)
    if _BARE.match(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def fields(event: str, /, **values: object) -> str:
    """``event`` followed by ``key=value`` pairs in the given order; values quoted when needed."""
    parts = [event, *(f"{key}={_value(value)}" for key, value in values.items())]
    return " ".join(parts)


def parse_fields(line: str) -> dict[str, str]:
    """The ``key=value`` pairs of a line built by :func:`fields` (for tests and log tools)."""
    result: dict[str, str] = {}
    for key, raw in _PAIR.findall(line):
        if raw.startswith('"'):
            raw = raw[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
        result[key] = raw
    return result
