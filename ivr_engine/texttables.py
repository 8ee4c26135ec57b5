"""Aligned text tables: one width per column, the columns named in ``right`` right-aligned (figures),
the others left-aligned; two spaces between columns, no trailing blanks."""

from __future__ import annotations

from collections.abc import Sequence, Set

__all__ = ["aligned_lines"]


def aligned_lines(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: Set[int] = frozenset()
) -> list[str]:
    """The header line, then one line per row."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        parts = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in pairs)
        return "  ".join(parts).rstrip()

    return [line(cells) for cells in [headers, *rows]]
