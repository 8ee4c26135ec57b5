"""CSV rendering: one section per table, each headed by a ``# title`` line and separated by a blank line.

Values are raw (fractions for percentages, seconds as numbers, empty for "not applicable"), so a
spreadsheet or script reads them without parsing display formats.
"""

from __future__ import annotations

import csv
import io

from ivr_engine.reports.model import Report

__all__ = ["render_csv"]


def render_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for i, table in enumerate(report.tables):
        if i:
            buffer.write("\n")
        buffer.write(f"# {table.title}\n")
        writer.writerow(table.keys())
        writer.writerows(["" if v is None else v for v in row] for row in table.rows)
    return buffer.getvalue()
