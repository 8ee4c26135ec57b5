"""Reports on the data of real lab calls: node statistics and ACD figures, with the xlsx export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from ivr_engine.lab.sipp import CallerScript

from .conftest import Lab
from .flow_calls import call_ids, finished_call, generate, node_path, place, query

pytestmark = pytest.mark.lab


def _report(lab: Lab, *args: str) -> dict[str, Any]:
    done = lab.ivr("stats", *args, "--format", "json")
    assert done.returncode == 0, done.stdout
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _rows(report: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return next(t["rows"] for t in report["tables"] if t["name"] == table)


async def test_node_statistics_count_a_real_call_and_export_with_charts(lab: Lab, tmp_path: Path) -> None:
    def visits() -> dict[str, int]:
        return {r["node"]: r["visits"] for r in _rows(_report(lab, "nodes", "--flow", "points"), "Nodes")}

    caller = "15550004004"
    plan = generate(lab, tmp_path, "points", "88001234#/9", caller)
    before_calls, before_visits = call_ids(lab), visits()

    result = await place(lab, plan)

    assert result.ok, result.describe()
    call = await finished_call(lab, before_calls, caller, "103")
    after = visits()
    for step in call["path"]:
        node = step["node"]
        assert after[node] - before_visits.get(node, 0) == 1, (node, before_visits, after)
    exits = _rows(_report(lab, "nodes", "--flow", "points"), "Exits")
    assert any(e["node"] == "find_member" and e["outcome"] == "found" and e["count"] >= 1 for e in exits)

    out = tmp_path / "nodes.xlsx"
    done = lab.ivr("stats", "nodes", "--flow", "points", "--format", "xlsx", "--out", str(out))
    assert done.returncode == 0, done.stdout
    workbook = load_workbook(out)
    charts = [chart for sheet in workbook.worksheets for chart in sheet._charts]
    assert charts, workbook.sheetnames
    data = workbook.worksheets[0]
    nodes = {row[1] for row in data.iter_rows(min_row=2, values_only=True)}
    assert {"ask_card", "find_member"} <= nodes


async def test_acd_statistics_count_a_real_queued_call(lab: Lab) -> None:
    """A caller presses 0 while no agent is logged in: the report counts the call under no agents, not
    offered (it never waited), exactly as recorded."""

    def overall() -> dict[str, Any]:
        (row,) = [r for r in _rows(_report(lab, "acd"), "Queues") if r["queue"] == "(all)"]
        return row

    caller = "15550005005"
    before_calls, before = call_ids(lab), overall()

    result = await lab.call(CallerScript(number="100", caller_id=caller, digits="0", hangup_after_s=12))

    assert result.ok, result.describe()
    call = await finished_call(lab, before_calls, caller, "100")
    assert ("agent", "to_general", "no_agents") in node_path(call)
    after = overall()
    assert after["offered"] == before["offered"]
    assert after["no_agents"] - before["no_agents"] == 1
    recorded = query(lab, "SELECT outcome, COUNT(*) AS n FROM queue_calls GROUP BY outcome")
    by_outcome = {row["outcome"]: row["n"] for row in recorded}
    assert after["offered"] == sum(by_outcome.values()) - by_outcome.get("no_agents", 0)
    assert after["answered"] == by_outcome.get("answered", 0)
    assert after["no_agents"] == by_outcome.get("no_agents", 0)
