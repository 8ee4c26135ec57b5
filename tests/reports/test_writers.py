"""Each export format of a report, and the ``ivr stats`` commands through CliRunner."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from cli import main
from ivr_engine.reports import ExportError, Report
from ivr_engine.reports.model import Chart, ChartKind, Column, ColumnKind, Table
from ivr_engine.reports.writers import Format, render_csv, render_json, render_table, write_report, write_xlsx
from ivr_engine.storage import Database

REPORT = Report(
    title="Demo",
    notes=("all queues",),
    tables=(
        Table(
            name="Queues",
            title="Per queue",
            columns=(
                Column("queue", "Queue"),
                Column("offered", "Offered", ColumnKind.INT),
                Column("answered", "Answered", ColumnKind.INT),
                Column("sl", "SL", ColumnKind.PERCENT),
                Column("asa", "ASA s", ColumnKind.SECONDS),
            ),
            rows=(("billing", 2, 1, 0.5, 5.0), ("general", 40, 30, 0.125, None)),
            charts=(
                Chart(ChartKind.BAR, "Calls per queue", "queue", ("offered", "answered")),
                Chart(ChartKind.PIE, "Offered by queue", "queue", ("offered",)),
            ),
        ),
        Table(name="Empty", title="Nothing", columns=(Column("x", "X"),), rows=()),
    ),
)


def test_table_is_aligned_with_numbers_right() -> None:
    text = render_table(REPORT)
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("Queue"))
    billing = next(line for line in lines if line.startswith("billing"))
    general = next(line for line in lines if line.startswith("general"))
    assert billing.index("50.0%") + len("50.0%") == general.index("12.5%") + len("12.5%")
    assert header.index("Offered") + len("Offered") == billing.index(" 2 ") + 2
    assert general.rstrip().endswith("-")  # no ASA
    assert "(no data)" in text


def test_csv_has_one_section_per_table_with_raw_values() -> None:
    first, second = render_csv(REPORT).split("\n\n")
    title, *rows = first.splitlines()
    assert title == "# Per queue"
    assert list(csv.reader(io.StringIO("\n".join(rows)))) == [
        ["queue", "offered", "answered", "sl", "asa"],
        ["billing", "2", "1", "0.5", "5.0"],
        ["general", "40", "30", "0.125", ""],
    ]
    assert second.splitlines() == ["# Nothing", "x"]


def test_json_rows_are_keyed_by_column() -> None:
    document = json.loads(render_json(REPORT))
    assert document["tables"][0]["rows"][1] == {
        "queue": "general",
        "offered": 40,
        "answered": 30,
        "sl": 0.125,
        "asa": None,
    }
    assert document["tables"][0]["columns"][3] == {"key": "sl", "title": "SL", "kind": "percent"}


def test_xlsx_has_data_sheets_and_native_charts_over_their_chart_data(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    write_xlsx(REPORT, path)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Queues", "Empty", "Chart data", "About"]
    sheet = workbook["Queues"]
    assert [cell.value for cell in sheet[1]] == ["Queue", "Offered", "Answered", "SL", "ASA s"]
    assert [cell.value for cell in sheet[3]] == ["general", 40, 30, 0.125, None]
    assert sheet["D2"].number_format == "0.0%"
    bar, pie = sheet._charts
    assert (bar.tagname, pie.tagname) == ("barChart", "pieChart")
    # Chart data: bar block = title row 1, header row 2, rows 3-4; blank row 5; pie block from row 6.
    assert [s.val.numRef.f for s in bar.series] == ["'Chart data'!$B$3:$B$4", "'Chart data'!$C$3:$C$4"]
    assert [s.tx.strRef.f for s in bar.series] == ["'Chart data'!B2", "'Chart data'!C2"]
    assert bar.series[0].cat.strRef.f == "'Chart data'!$A$3:$A$4"
    assert [s.val.numRef.f for s in pie.series] == ["'Chart data'!$B$8:$B$9"]
    data = workbook["Chart data"]
    assert [[c.value for c in row] for row in data.iter_rows(min_row=1, max_row=4)] == [
        ["Calls per queue", None, None],
        ["Label", "Offered", "Answered"],
        ["billing", 2, 1],
        ["general", 40, 30],
    ]
    assert workbook["Empty"]._charts == []


def test_xlsx_needs_a_file() -> None:
    with pytest.raises(ExportError, match="--out"):
        write_report(REPORT, Format.XLSX, None, io.StringIO())


def test_unwritable_output_is_a_report_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="cannot write"):
        write_report(REPORT, Format.CSV, tmp_path / "missing" / "x.csv", io.StringIO())


@pytest.fixture
def cli_env(node_log_db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("IVR_DATABASE_URL", node_log_db.url.render_as_string(hide_password=False))
    monkeypatch.setenv("IVR_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_stats_nodes_table(cli_env: Path) -> None:
    result = CliRunner().invoke(main, ["stats", "nodes", "--flow", "main"])
    assert result.exit_code == 0, result.output
    menu = next(line for line in result.output.splitlines() if line.startswith("main  menu"))
    assert menu.split() == ["main", "menu", "menu", "4", "0", "1", "1", "7.0", "10.0"]
    assert "Funnel along the main path" in result.output


def test_cli_stats_nodes_xlsx_and_json(cli_env: Path) -> None:
    out = cli_env / "nodes.xlsx"
    result = CliRunner().invoke(main, ["stats", "nodes", "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["Nodes", "Exits", "Funnel", "Chart data", "About"]
    assert len(workbook["Funnel"]._charts) == 2
    labels = [row[0] for row in workbook["Chart data"].iter_rows(values_only=True) if row and row[0]]
    assert "main/menu" in labels
    assert "menu" not in labels
    result = CliRunner().invoke(main, ["stats", "nodes", "--format", "json", "--since", "2026-03-03"])
    assert result.exit_code == 0, result.output
    nodes = json.loads(result.output)["tables"][0]["rows"]
    assert [(n["node"], n["visits"], n["hangups"]) for n in nodes] == [("welcome", 1, 1)]


def test_cli_stats_acd_csv(cli_env: Path, acd_db: Database) -> None:
    result = CliRunner().invoke(main, ["stats", "acd", "--format", "csv", "--by", "day", "--sla", "30"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Per queue\nqueue,offered,answered,abandoned,abandon_rate")
    queues = result.output.split("\n\n")[0].splitlines()
    assert queues[3].split(",")[:9] == ["general", "4", "3", "1", "0.25", "0", "0", "0", "0.75"]
    assert "2026-03-02,12,6,4,1" in result.output  # 5 calls of the node log + 7


def test_cli_rejects_an_empty_window_and_a_missing_schema(cli_env: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["stats", "nodes", "--since", "2026-03-03", "--until", "2026-03-02"])
    assert result.exit_code == 2
    assert "is not before --until" in result.output
    (tmp_path / "empty.db").touch()  # a database without the schema (a missing one: tests/unit)
    empty = CliRunner().invoke(
        main, ["stats", "acd"], env={"IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    )
    assert empty.exit_code == 1
    assert "Error: cannot read statistics" in empty.output
    assert "Traceback" not in empty.output
