"""What a chart shows (chart_points) and how the Excel writer draws it (read back with openpyxl)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from ivr_engine.reports.chart_data import chart_points
from ivr_engine.reports.model import Chart, ChartKind, Column, ColumnKind, Report, Table
from ivr_engine.reports.writers import write_xlsx

_I = ColumnKind.INT

QUEUES = Table(
    name="Queues",
    title="Per queue",
    columns=(
        Column("queue", "Queue"),
        Column("offered", "Offered", _I),
        Column("abandoned", "Abandoned", _I),
    ),
    rows=(("billing", 2, 0), ("general", 40, None), ("sales", 0, 3), ("(all)", 42, 3)),
    charts=(
        Chart(ChartKind.BAR, "Calls per queue", "queue", ("offered", "abandoned"), omit=("(all)",)),
        Chart(ChartKind.PIE, "Offered by queue", "queue", ("offered",), omit=("(all)",)),
    ),
)
NODES = Table(
    name="Nodes",
    title="Nodes",
    columns=(Column("flow", "Flow"), Column("node", "Node"), Column("visits", "Visits", _I)),
    rows=(("main", "start", 5), ("survey", "start", 2), ("survey", "done", 0)),
    charts=(
        Chart(ChartKind.BAR, "Visits", "node", ("visits",), ("flow",)),
        Chart(ChartKind.PIE, "Visits share", "node", ("visits",), ("flow",)),
    ),
)


def test_bar_points_leave_out_the_total_row_and_keep_zero_and_missing_values() -> None:
    points = chart_points(QUEUES, QUEUES.charts[0])
    assert points.labels == ("billing", "general", "sales")
    assert points.series == (("Offered", (2.0, 40.0, 0.0)), ("Abandoned", (0.0, None, 3.0)))


def test_pie_points_leave_out_zero_slices_and_the_total() -> None:
    points = chart_points(QUEUES, QUEUES.charts[1])
    assert points.labels == ("billing", "general")
    assert points.series == (("Offered", (2.0, 40.0)),)


def test_node_labels_carry_their_flow() -> None:
    assert chart_points(NODES, NODES.charts[0]).labels == ("main/start", "survey/start", "survey/done")
    assert chart_points(NODES, NODES.charts[1]).labels == ("main/start", "survey/start")


def test_without_omit_and_qualify_every_row_is_charted_by_its_category() -> None:
    plain = Chart(ChartKind.BAR, "Calls", "queue", ("offered",))
    assert chart_points(QUEUES, plain).labels == ("billing", "general", "sales", "(all)")


def test_xlsx_charts_read_their_own_points_show_axes_and_pie_percentages(tmp_path: Path) -> None:
    path = tmp_path / "charts.xlsx"
    write_xlsx(Report(title="Demo", tables=(QUEUES, NODES)), path)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Queues", "Nodes", "Chart data", "About"]
    assert [row[0] for row in workbook["Queues"].iter_rows(min_row=2, values_only=True)] == [
        "billing", "general", "sales", "(all)",  # the data sheet keeps the total
    ]
    data = workbook["Chart data"]

    def cells(ref: str) -> list[object]:
        sheet_name, _, area = ref.partition("!")
        assert sheet_name == "'Chart data'"
        return [c.value for row in data[area.replace("$", "")] for c in row]

    charts = [*workbook["Queues"]._charts, *workbook["Nodes"]._charts]
    assert [c.tagname for c in charts] == ["barChart", "pieChart", "barChart", "pieChart"]
    for chart in charts:
        for series in chart.series:
            labels = cells(series.cat.strRef.f)
            assert "(all)" not in labels
            assert len(cells(series.val.numRef.f)) == len(labels)
        if chart.tagname == "barChart":
            assert chart.x_axis.delete is False
            assert chart.y_axis.delete is False
        else:
            assert chart.dataLabels.showPercent is True
            assert 0 not in cells(chart.series[0].val.numRef.f)
    queue_bar, queue_pie, node_bar, node_pie = charts
    assert cells(queue_bar.series[0].cat.strRef.f) == ["billing", "general", "sales"]
    assert cells(queue_pie.series[0].val.numRef.f) == [2, 40]
    assert cells(node_bar.series[0].cat.strRef.f) == ["main/start", "survey/start", "survey/done"]
    assert cells(node_pie.series[0].cat.strRef.f) == ["main/start", "survey/start"]


def test_a_chart_with_no_points_is_not_drawn(tmp_path: Path) -> None:
    zeros = Table(
        name="Zeros",
        title="Zeros",
        columns=(Column("k", "K"), Column("v", "V", _I)),
        rows=(("a", 0),),
        charts=(Chart(ChartKind.PIE, "Nothing", "k", ("v",)),),
    )
    path = tmp_path / "zeros.xlsx"
    write_xlsx(Report(title="Demo", tables=(zeros,)), path)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Zeros", "About"]
    assert workbook["Zeros"]._charts == []
