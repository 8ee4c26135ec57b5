"""Aligned text tables for the CLI: one column width per column, chosen columns right-aligned."""

from __future__ import annotations

from collections.abc import Sequence, Set

import click

from ivr_engine.texttables import aligned_lines

__all__ = ["print_table"]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Set[int] = frozenset()) -> None:
    for line in aligned_lines(headers, rows, right):
        click.echo(line)
