"""Reading one YAML mapping field by field, every problem recorded against its node at file:line.

No method raises for a bad value: it records the problem (``failed`` becomes true) and returns a
stand-in (the default, ``""`` for a name, an empty mapping), so one pass over a file finds every
problem of every node. A node read with ``failed`` set is never run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from typing import TypeVar

from ivr_engine.channel import DtmfKey
from ivr_engine.flow.errors import Problem
from ivr_engine.flow.hints import did_you_mean
from ivr_engine.flow.model import Speech
from ivr_engine.flow.templates import template_error
from ivr_engine.flow.yamlsource import Located

__all__ = ["IDENT", "Fields"]

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PROMPT_ID = re.compile(r"[a-z0-9_]+\Z")
_T = TypeVar("_T")
_N = TypeVar("_N", int, float)


class Fields:
    """One YAML mapping (a node, ``defaults``, a nested message), read field by field."""

    def __init__(self, item: Located, file: str, node: str, problems: list[Problem]) -> None:
        assert isinstance(item.value, dict)
        self.values: dict[str, Located] = item.value
        self.item = item
        self.file = file
        self.node = node
        self.problems = problems
        self.seen: set[str] = set()
        self.failed = False
        self.anchor_line = item.line  # where node-level problems point (the node's id line)
        self._report_duplicates(item, "field")

    def _report_duplicates(self, item: Located, what: str) -> None:
        for key, line in item.duplicates:
            first = item.key_lines.get(key, item.line)
            self.error(line, f"duplicate {what} {key!r} (first at line {first})")

    def line(self, key: str) -> int:
        return self.item.key_lines.get(key, self.anchor_line)

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, self.node, message))
        self.failed = True

    def _get(self, key: str) -> Located | None:
        self.seen.add(key)
        return self.values.get(key)

    def _missing(self, key: str) -> None:
        self.error(self.anchor_line, f"missing required field '{key}'")

    def has(self, key: str) -> bool:
        return key in self.values

    def raw(self, key: str) -> Located | None:
        return self._get(key)

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        found = self._get(key)
        if found is None:
            if required:
                self._missing(key)
            return default
        if (
            isinstance(found.value, bool)
            or found.value is None
            or not isinstance(found.value, str | int | float)
        ):
            self.error(found.line, f"'{key}' must be text")
            return default
        if isinstance(found.value, int) and abs(found.value) > 10**30:
            self.error(found.line, f"'{key}' is a number too long to be useful")
            return default
        return str(found.value)

    def required(self, key: str) -> str:
        return self.text(key, required=True) or ""

    def name(self, key: str, *, required: bool = True, default: str | None = None) -> str | None:
        value = self.text(key, default, required=required)
        if value is not None and not IDENT.match(value):
            self.error(self.line(key), f"'{key}' must be a name (letters, digits, _), got {value[:80]!r}")
            return default
        return value

    def target(self, key: str) -> str:
        """A required exit: ``""`` when missing or bad (graph checks skip it)."""
        return self.name(key) or ""

    def optional_target(self, key: str) -> str | None:
        return self.name(key, required=False)

    def number(
        self, key: str, default: _N, kind: Callable[[float], _N], minimum: float = 0, maximum: float = 3600
    ) -> _N:
        found = self._get(key)
        if found is None:
            return default
        value = found.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(found.line, f"'{key}' must be a number")
            return default
        if isinstance(value, float) and not math.isfinite(value):
            self.error(found.line, f"'{key}' must be a finite number")
            return default
        # Compared as given: a 400-digit int never meets float() (OverflowError).
        if value < minimum or value > maximum:
            self.error(found.line, f"'{key}' must be from {minimum:g} to {maximum:g}")
            return default
        return kind(value)

    def flag(self, key: str, default: bool) -> bool:
        found = self._get(key)
        if found is None:
            return default
        if not isinstance(found.value, bool):
            self.error(found.line, f"'{key}' must be true or false")
            return default
        return found.value

    def mapping(self, key: str, *, required: bool = False, what: str = "key") -> dict[str, Located]:
        found = self._get(key)
        if found is None:
            if required:
                self._missing(key)
            return {}
        if not isinstance(found.value, dict):
            self.error(found.line, f"'{key}' must be a mapping")
            return {}
        self._report_duplicates(found, what)
        return found.value

    def key(self, key: str) -> DtmfKey | None:
        found = self._get(key)
        if found is None:
            return DtmfKey.POUND
        if found.value is None or found.value == "none":
            return None
        try:
            return DtmfKey(str(found.value))
        except ValueError:
            self.error(found.line, f"'{key}' must be one DTMF key (# * 0-9) or none")
            return DtmfKey.POUND

    def template(self, key: str, *, required: bool = False) -> str | None:
        value = self.text(key, required=required)
        if value is not None:
            self.check_template(self.line(key), value)
        return value

    def check_template(self, line: int, value: str) -> None:
        problem = template_error(value)
        if problem:
            self.error(line, problem)

    def speech_fields(self, prompt_key: str = "prompt", text_key: str = "text") -> Speech:
        found = self._get(prompt_key)
        prompts = () if found is None else self._ids(found, prompt_key)
        return Speech(prompts, self.template(text_key))

    def speech(self, key: str) -> Speech:
        found = self._get(key)
        if found is None:
            return Speech()
        if isinstance(found.value, dict):
            nested = Fields(found, self.file, self.node, self.problems)
            speech = nested.speech_fields()
            nested.finish(f"'{key}'")
            self.failed |= nested.failed
            return speech
        return Speech(self._ids(found, key))

    def _ids(self, found: Located, key: str) -> tuple[str, ...]:
        items = found.value if isinstance(found.value, list) else [found]
        ids: list[str] = []
        for item in items:
            if not isinstance(item.value, str) or not _PROMPT_ID.match(item.value):
                self.error(
                    item.line, f"'{key}' must be prompt ids ([a-z0-9_]+), got {str(item.value)[:80]!r}"
                )
                continue
            ids.append(item.value)
        return tuple(ids)

    def finish(self, what: str, known: Collection[str] | None = None) -> None:
        """Report every field not in ``known`` (default: the fields read), with a spelling hint."""
        allowed = set(known) if known is not None else self.seen - {"type"}
        for key in self.values:
            if key not in allowed and key != "type":
                hint = did_you_mean(key, allowed) or f" (known: {', '.join(sorted(allowed))})"
                self.error(self.line(key), f"unknown field '{key}' in {what}{hint}")

    def entries(
        self, key: str, shape: str, entry: str, what: str, read: Callable[[Fields], _T | None]
    ) -> list[_T]:
        """Read each entry of the required non-empty list ``key`` (each a mapping ``shape``) with
        ``read``, which returns None when it recorded its own problem; ``entry`` and ``what`` name an
        entry in the problems (``each {entry} is {shape}``, ``unknown field ... in {what}``)."""
        found = self.raw(key)
        if found is None:
            self._missing(key)
            return []
        if not isinstance(found.value, list) or not found.value:
            self.error(self.line(key), f"'{key}' must be a list of {shape}")
            return []
        values: list[_T] = []
        for item in found.value:
            if not isinstance(item.value, dict):
                self.error(item.line, f"each {entry} is {shape}")
                continue
            fields = Fields(item, self.file, self.node, self.problems)
            value = read(fields)
            fields.finish(what)
            self.failed |= fields.failed
            if value is not None and not fields.failed:
                values.append(value)
        return values
