"""Aligned text tables for the CLI: one column width per column, chosen columns right-aligned."""

from __future__ import annotations

from collections.abc import Sequence, Set

import click

__all__ = ["print_table"]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Set[int] = frozenset()) -> None:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    click.echo(line(headers))
    for row in rows:
        click.echo(line(row))
