"""Excel workbook: one data sheet per table, native bar and pie charts, a "Chart data" and an "About" sheet.

Each chart's own points (:func:`~ivr_engine.reports.chart_data.chart_points`: labels joined as
``flow/node``, total rows left out, zero pie slices left out) are written as a block to the visible
"Chart data" sheet, and the chart's series and categories reference that block; the chart is drawn next
to its table on the table's sheet. The data sheets hold the tables unchanged. Axes are explicitly kept
(openpyxl 3.1 writes ``delete=1`` on both axes by default, which LibreOffice and Excel obey) and pies
label their slices with percentages.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ivr_engine.reports.chart_data import ChartPoints, chart_points
from ivr_engine.reports.errors import ExportError
from ivr_engine.reports.model import Chart, ChartKind, ColumnKind, Report, Table

__all__ = ["CHART_DATA_SHEET", "write_xlsx"]

CHART_DATA_SHEET = "Chart data"

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


def _write_points(data: Worksheet, top: int, points: ChartPoints) -> int:
    """Write ``points`` from row ``top``: title, header, a row per label; returns the header's row."""
    data.cell(row=top, column=1, value=points.title).font = Font(bold=True)
    for j, value in enumerate(["Label", *(title for title, _ in points.series)], start=1):
        data.cell(row=top + 1, column=j, value=value)
    for i, label in enumerate(points.labels, start=top + 2):
        data.cell(row=i, column=1, value=label)
        for j, (_, values) in enumerate(points.series, start=2):
            data.cell(row=i, column=j, value=values[i - top - 2])
    return top + 1


def _chart(data: Worksheet, header: int, spec: Chart, points: ChartPoints) -> BarChart | PieChart:
    last_row = header + len(points.labels)
    chart: BarChart | PieChart = BarChart() if spec.kind is ChartKind.BAR else PieChart()
    chart.title = spec.title
    for j in range(len(points.series)):
        values = Reference(data, min_col=2 + j, min_row=header, max_row=last_row)
        chart.add_data(values, titles_from_data=True)
    labels = Reference(data, min_col=1, min_row=header + 1, max_row=last_row)
    for series in chart.series:  # text labels: a string reference (openpyxl's default is numeric)
        series.cat = AxDataSource(strRef=StrRef(f=str(labels)))
    if isinstance(chart, BarChart):
        chart.type = "col"
        chart.y_axis.title = ", ".join(title for title, _ in points.series)
        chart.x_axis.delete = False
        chart.y_axis.delete = False
    else:
        chart.dataLabels = DataLabelList()
        chart.dataLabels.showPercent = True
        for flag in ("showVal", "showCatName", "showSerName", "showLegendKey"):
            setattr(chart.dataLabels, flag, False)
    chart.width, chart.height = 18, 8.5
    return chart


def _add_charts(data: Worksheet, charted: list[tuple[Worksheet, Table, Chart, ChartPoints]]) -> None:
    data.column_dimensions["A"].width = 30
    placed: dict[str, int] = {}
    top = 1
    for sheet, table, spec, points in charted:
        header = _write_points(data, top, points)
        top = header + len(points.labels) + 2  # a blank row between blocks
        anchor_col = get_column_letter(len(table.columns) + 2)
        i = placed.get(table.name, 0)
        placed[table.name] = i + 1
        sheet.add_chart(_chart(data, header, spec, points), f"{anchor_col}{1 + i * _CHART_ROWS}")


def write_xlsx(report: Report, path: Path) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    charted: list[tuple[Worksheet, Table, Chart, ChartPoints]] = []
    for table in report.tables:
        sheet = workbook.create_sheet(table.name)
        _fill(sheet, table)
        for spec in table.charts:
            points = chart_points(table, spec)
            if points.labels:
                charted.append((sheet, table, spec, points))
    if charted:
        _add_charts(workbook.create_sheet(CHART_DATA_SHEET), charted)
    about = workbook.create_sheet("About")
    for line in (report.title, *report.notes):
        about.append([line])
    try:
        workbook.save(path)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
