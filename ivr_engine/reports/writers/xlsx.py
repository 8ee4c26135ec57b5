"""Excel workbook: one data sheet per table, with native bar and pie charts over the sheet's cells.

Each chart's series reference the data columns (header row as the series name) and its categories the
category column, so the charts follow the data when a supervisor edits or re-sorts it in Excel.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ivr_engine.reports.errors import ExportError
from ivr_engine.reports.model import Chart, ChartKind, ColumnKind, Report, Table

__all__ = ["write_xlsx"]

_NUMBER_FORMATS = {
    ColumnKind.INT: "0",
    ColumnKind.FLOAT: "0.00",
    ColumnKind.PERCENT: "0.0%",
    ColumnKind.SECONDS: "0.0",
}
_CHART_ROWS = 18  # vertical room each chart takes


def _fill(sheet: Worksheet, table: Table) -> None:
    sheet.append([c.title for c in table.columns])
    for row in table.rows:
        sheet.append(list(row))
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        width = max([len(column.title)] + [len(str(row[index - 1])) for row in table.rows])
        sheet.column_dimensions[letter].width = min(max(width + 2, 8), 40)
        number_format = _NUMBER_FORMATS.get(column.kind)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
    sheet.freeze_panes = "A2"


def _chart(sheet: Worksheet, table: Table, spec: Chart) -> BarChart | PieChart:
    last_row = len(table.rows) + 1
    chart: BarChart | PieChart = BarChart() if spec.kind is ChartKind.BAR else PieChart()
    chart.title = spec.title
    for key in spec.values:
        col = table.index(key) + 1
        chart.add_data(Reference(sheet, min_col=col, min_row=1, max_row=last_row), titles_from_data=True)
    category = table.index(spec.category) + 1
    labels = Reference(sheet, min_col=category, min_row=2, max_row=last_row)
    for series in chart.series:  # text labels: a string reference (openpyxl's default is numeric)
        series.cat = AxDataSource(strRef=StrRef(f=str(labels)))
    if isinstance(chart, BarChart):
        chart.type = "col"
        chart.y_axis.title = ", ".join(table.columns[table.index(k)].title for k in spec.values)
    chart.width, chart.height = 18, 8.5
    return chart


def write_xlsx(report: Report, path: Path) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in report.tables:
        sheet = workbook.create_sheet(table.name)
        _fill(sheet, table)
        if not table.rows:
            continue
        anchor_col = get_column_letter(len(table.columns) + 2)
        for i, spec in enumerate(table.charts):
            sheet.add_chart(_chart(sheet, table, spec), f"{anchor_col}{1 + i * _CHART_ROWS}")
    about = workbook.create_sheet("About")
    for line in (report.title, *report.notes):
        about.append([line])
    try:
        workbook.save(path)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
