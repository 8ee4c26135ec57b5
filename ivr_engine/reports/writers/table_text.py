"""The aligned plain-text rendering every report prints by default."""

from __future__ import annotations

from ivr_engine.reports.model import Cell, Column, ColumnKind, Report, Table

__all__ = ["format_cell", "render_table"]


def format_cell(value: Cell, column: Column) -> str:
    if value is None:
        return "-"
    if column.kind is ColumnKind.PERCENT and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    if column.kind is ColumnKind.SECONDS and isinstance(value, int | float):
        return f"{value:.1f}"
    if column.kind is ColumnKind.FLOAT and isinstance(value, int | float):
        return f"{value:.2f}"
    return str(value)


def _render(table: Table) -> list[str]:
    cells = [[format_cell(v, c) for v, c in zip(row, table.columns, strict=True)] for row in table.rows]
    widths = [max([len(c.title)] + [len(row[i]) for row in cells]) for i, c in enumerate(table.columns)]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if c.numeric else v.ljust(w)
            for v, w, c in zip(values, widths, table.columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    lines = [table.title, line([c.title for c in table.columns]), line(["-" * w for w in widths])]
    lines.extend(line(row) for row in cells)
    if not cells:
        lines.append("(no data)")
    return lines


def render_table(report: Report) -> str:
    lines = [report.title, *report.notes, ""]
    for table in report.tables:
        lines.extend(_render(table))
        lines.append("")
    return "\n".join(lines)
