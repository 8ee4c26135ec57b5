"""What a chart shows: the rules that turn a table's rows into a chart's labels and series.

- the label of a row is its ``qualify`` cells and its category cell joined by ``/`` (``main/start``);
- rows whose category is in the chart's ``omit`` (a total row) are left out;
- bars: a missing value (``None``) is left empty; a pie: rows whose value is missing or zero are left
  out (a zero slice is invisible and only clutters the legend).
The Excel writer writes exactly these points to its "Chart data" sheet and points the chart at them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr_engine.reports.model import Chart, ChartKind, Table

__all__ = ["ChartPoints", "chart_points"]

LABEL_SEPARATOR = "/"


@dataclass(frozen=True)
class ChartPoints:
    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[float | None, ...]], ...]
    """(series title, one value per label)."""


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def chart_points(table: Table, chart: Chart) -> ChartPoints:
    label_at = [table.index(k) for k in (*chart.qualify, chart.category)]
    value_at = [table.index(k) for k in chart.values]
    labels: list[str] = []
    columns: list[list[float | None]] = [[] for _ in value_at]
    for row in table.rows:
        if row[table.index(chart.category)] in chart.omit:
            continue
        values = [_number(row[i]) for i in value_at]
        if chart.kind is ChartKind.PIE and not values[0]:
            continue
        labels.append(LABEL_SEPARATOR.join("" if row[i] is None else str(row[i]) for i in label_at))
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    titles = [table.columns[i].title for i in value_at]
    return ChartPoints(
        title=chart.title,
        labels=tuple(labels),
        series=tuple((title, tuple(column)) for title, column in zip(titles, columns, strict=True)),
    )
