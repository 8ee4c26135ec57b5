"""The shape every report is rendered from: titled tables of typed columns, with chart hints.

Report builders (``node_stats``, ``acd_stats``) turn their typed results into a :class:`Report`; the
writers in ``ivr_engine.reports.writers`` render it as an aligned table, CSV, JSON or an Excel workbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Cell", "Chart", "ChartKind", "Column", "ColumnKind", "Report", "Table"]

Cell = str | int | float | None
"""One value; ``None`` means "not applicable" (e.g. no answered calls, so no ASA)."""


class ColumnKind(StrEnum):
    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    PERCENT = "percent"  # a fraction: 0.125 is shown as 12.5 %
    SECONDS = "seconds"


class ChartKind(StrEnum):
    BAR = "bar"
    PIE = "pie"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: ColumnKind = ColumnKind.TEXT

    @property
    def numeric(self) -> bool:
        return self.kind is not ColumnKind.TEXT


@dataclass(frozen=True)
class Chart:
    """A chart over a table: one bar/slice per row, labelled by ``category``, sized by ``values``.

    ``qualify`` names columns whose values prefix the label (``flow/node``); rows whose category value is
    in ``omit`` (a total row such as ``(all)``) stay in the table but out of the chart. What a chart
    shows exactly is :func:`ivr_engine.reports.chart_data.chart_points`.
    """

    kind: ChartKind
    title: str
    category: str
    values: tuple[str, ...]
    qualify: tuple[str, ...] = ()
    omit: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind is ChartKind.PIE and len(self.values) != 1:
            raise ValueError(f"pie chart {self.title!r} takes exactly one value column")


@dataclass(frozen=True)
class Table:
    """One table of a report; ``name`` is short (an Excel sheet name, at most 31 characters)."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    charts: tuple[Chart, ...] = ()

    def __post_init__(self) -> None:
        if len(self.name) > 31:
            raise ValueError(f"table name {self.name!r} is longer than 31 characters")
        width = len(self.columns)
        for row in self.rows:
            if len(row) != width:
                raise ValueError(f"table {self.name!r}: row {row!r} has {len(row)} cells, expected {width}")
        keys = self.keys()
        for chart in self.charts:
            for key in (*chart.qualify, chart.category, *chart.values):
                if key not in keys:
                    raise ValueError(f"chart {chart.title!r} names unknown column {key!r}")

    def keys(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)

    def index(self, key: str) -> int:
        return self.keys().index(key)


@dataclass(frozen=True)
class Report:
    title: str
    tables: tuple[Table, ...]
    notes: tuple[str, ...] = field(default=())
