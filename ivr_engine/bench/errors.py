"""The benchmark's exception tree: ``BenchError`` (a load run could not be set up, run or read)."""

from __future__ import annotations

__all__ = ["BenchError"]


class BenchError(Exception):
    """A benchmark step failed; the message says which and where its logs are."""
