"""Gather patterns: regular expressions a flow designer writes, refused when they can backtrack badly.

A caller's input is matched against ``pattern`` on the event loop, so a pattern must finish quickly
on any input. Python's ``re`` backtracks: ``(\\d+)+x`` takes exponential time on a run of digits.
``pattern_problem`` refuses, from the parsed pattern, the shapes that cause that: a repetition inside
another repetition, a repetition of multi-character alternatives, more than ``MAX_VARIABLE_REPEATS``
variable repetitions in all, and patterns longer than ``MAX_PATTERN_LENGTH``. What is left is at most
polynomial of small degree over input no longer than a gather's ``max_digits`` (at most 64 keys).
"""

from __future__ import annotations

import re
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

__all__ = ["MAX_PATTERN_LENGTH", "MAX_VARIABLE_REPEATS", "pattern_problem"]

MAX_PATTERN_LENGTH = 200
MAX_VARIABLE_REPEATS = 3
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}


class _Refused(Exception):
    pass


def _children(op: Any, av: Any) -> list[Any]:
    """The sub-patterns of one parsed item."""
    if op in _REPEATS or op is getattr(sre_constants, "POSSESSIVE_REPEAT", None):
        return [av[2]]
    if op is sre_constants.SUBPATTERN:
        return [av[3]]
    if op is sre_constants.BRANCH:
        return list(av[1])
    if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return [av[1]]
    if op is sre_constants.GROUPREF_EXISTS:
        return [p for p in av[1:] if p is not None]
    if op is getattr(sre_constants, "ATOMIC_GROUP", None):
        return [av]
    return []


def _walk(pattern: Any, inside_repeat: bool, counts: list[int]) -> None:
    for op, av in pattern:
        if op in _REPEATS:
            low, high = av[0], av[1]
            variable = low != high
            if variable:
                counts[0] += 1
                if inside_repeat:
                    raise _Refused("a repetition inside a repetition (such as (\\d+)+) can take forever")
            repeats = high > 1
            if repeats and _has_branch(av[2]):
                raise _Refused("a repetition of alternatives (such as (12|1)+) can take forever: use [...]")
            _walk(av[2], inside_repeat or repeats, counts)
            continue
        if op is sre_constants.BRANCH and inside_repeat:
            raise _Refused("a repetition of alternatives (such as (12|1)+) can take forever: use [...]")
        for child in _children(op, av):
            _walk(child, inside_repeat, counts)


def _has_branch(pattern: Any) -> bool:
    for op, av in pattern:
        if op is sre_constants.BRANCH:
            return True
        if op not in _REPEATS and any(_has_branch(child) for child in _children(op, av)):
            return True
    return False


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` may not be a gather pattern, or None."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"'pattern' is longer than {MAX_PATTERN_LENGTH} characters"
    try:
        re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, OverflowError) as exc:
        return f"'pattern' is not a valid regular expression: {exc}"
    except RecursionError:
        return "'pattern' is not a valid regular expression: nested too deeply"
    counts = [0]
    try:
        _walk(parsed, False, counts)
    except _Refused as exc:
        return f"'pattern' {exc}"
    except RecursionError:
        return "'pattern' is nested too deeply"
    if counts[0] > MAX_VARIABLE_REPEATS:
        return (
            f"'pattern' has more than {MAX_VARIABLE_REPEATS} variable repetitions (+ * ? {{m,n}}): too slow"
        )
    return None
