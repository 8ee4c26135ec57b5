"""Typed reads of parsed JSON values: each returns the value as its Python type or raises ``TypeError``.

The JSON forms that travel between the service and its clients (control API views, screen-pops) parse
with these and turn the ``TypeError`` (with ``KeyError``/``ValueError``) into their own domain error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "as_float", "as_int", "as_mapping", "as_mappings", "as_opt_float", "as_opt_int", "as_opt_str", "as_str",
]


def as_mapping(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def as_mappings(value: object) -> list[Mapping[str, Any]]:
    """A list of objects."""
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return [as_mapping(item) for item in value]


def as_str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def as_opt_str(value: object) -> str | None:
    return None if value is None else as_str(value)


def as_int(value: object) -> int:
    """An integer, and not a boolean."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def as_opt_int(value: object) -> int | None:
    return None if value is None else as_int(value)


def as_float(value: object) -> float:
    """Any number but a boolean, as a float."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def as_opt_float(value: object) -> float | None:
    return None if value is None else as_float(value)
