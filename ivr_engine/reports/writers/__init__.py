"""Writers render a :class:`~ivr_engine.reports.model.Report`: aligned text, CSV, JSON or Excel."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TextIO

from ivr_engine.reports.errors import ExportError
from ivr_engine.reports.model import Report
from ivr_engine.reports.writers.csv_text import render_csv
from ivr_engine.reports.writers.json_text import render_json
from ivr_engine.reports.writers.table_text import render_table
from ivr_engine.reports.writers.xlsx import write_xlsx

__all__ = ["Format", "render_csv", "render_json", "render_table", "write_report", "write_xlsx"]


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


def write_report(report: Report, fmt: Format, out: Path | None, stdout: TextIO) -> None:
    """Write ``report`` to ``out`` (or ``stdout`` for the text formats); xlsx needs a file."""
    if fmt is Format.XLSX:
        if out is None:
            raise ExportError("--format xlsx writes a workbook: give --out FILE.xlsx")
        write_xlsx(report, out)
        return
    render = {Format.TABLE: render_table, Format.CSV: render_csv, Format.JSON: render_json}[fmt]
    text = render(report)
    if out is None:
        stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from exc
