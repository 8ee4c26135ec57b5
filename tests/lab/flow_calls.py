"""Helpers for the flow lab tests: generate a scenario, place the call, read back the node log."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from ivr_engine.lab.sipp import SippResult, run_scenario_file

from .conftest import Lab

__all__ = ["call_ids", "calls_list", "finished_call", "generate", "node_path", "place", "query"]


def generate(lab: Lab, out_dir: Path, flow: str, path: str, caller: str) -> dict[str, Any]:
    """``ivr sipp generate FLOW --path PATH --json`` against the lab's database."""
    out = out_dir / f"{flow}.xml"
    done = lab.ivr("sipp", "generate", flow, "--path", path, "--caller", caller, "--out", str(out), "--json")
    assert done.returncode == 0, done.stdout
    plan: dict[str, Any] = json.loads(done.stdout)
    return plan


async def place(lab: Lab, plan: dict[str, Any]) -> SippResult:
    return await run_scenario_file(lab.settings, Path(plan["scenario"]), float(plan["timeout_s"]))


def calls_list(lab: Lab) -> list[dict[str, Any]]:
    """``ivr calls list --json``: the latest calls, newest first."""
    done = lab.ivr("calls", "list", "--json")
    assert done.returncode == 0, done.stdout
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def call_ids(lab: Lab) -> set[str]:
    return {row["call_id"] for row in calls_list(lab)}


async def finished_call(
    lab: Lab, before: set[str], caller: str, dialled: str, timeout_s: float = 15
) -> dict[str, Any]:
    """``ivr calls show --json`` of the one new call from ``caller`` to ``dialled``, once it has ended."""
    rows: list[dict[str, Any]] = []
    for _ in range(int(timeout_s * 2)):
        done = lab.ivr("calls", "list", "--json")
        assert done.returncode == 0, done.stdout
        rows = [
            r for r in json.loads(done.stdout)
            if r["call_id"] not in before and r["caller"] == caller and r["dialled"] == dialled
        ]  # fmt: skip
        if len(rows) == 1 and rows[0]["ended"]:
            break
        await asyncio.sleep(0.5)
    assert len(rows) == 1, f"expected one new call {caller} -> {dialled}, got {rows}"
    assert rows[0]["ended"], f"call {rows[0]['call_id']} never ended"
    shown = lab.ivr("calls", "show", rows[0]["call_id"], "--json")
    assert shown.returncode == 0, shown.stdout
    call: dict[str, Any] = json.loads(shown.stdout)
    return call


def node_path(call_or_plan: dict[str, Any], key: str = "path") -> list[tuple[str, str, str]]:
    """(flow, node, outcome) per node, from ``calls show`` ("path") or a generated plan ("expected")."""
    return [(step["flow"], step["node"], step["outcome"]) for step in call_or_plan[key]]


def query(lab: Lab, sql: str, **params: object) -> list[dict[str, Any]]:
    engine = create_engine(lab.settings.db_url)
    try:
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()

