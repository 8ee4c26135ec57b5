"""``ivr ticket`` end to end through click's CliRunner on SQLite, on a pinned clock (IVR_CLOCK_START)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main

CLOCK = "2026-12-03T10:00:00-05:00"


@pytest.fixture
def ivr(tmp_path: Path) -> object:
    def run(*args: str, clock: str = CLOCK) -> Result:
        return CliRunner().invoke(
            main, ["--state-dir", str(tmp_path / "state"), *args],
            env={"IVR_DATABASE_URL": None, "IVR_CONFIG": None, "IVR_CLOCK_START": clock,
                 "IVR_CLOCK_ANCHOR": None, "IVR_TIMEZONE": "America/New_York"},
            catch_exceptions=False,
        )  # fmt: skip

    assert run("db", "init").exit_code == 0
    assert run("db", "seed").exit_code == 0
    return run


def test_an_order_from_complaint_to_return_visit(ivr: object) -> None:
    run = ivr  # type: ignore[assignment]
    created = run("ticket", "create", "--type", "complaint", "--description", "parcel broken",
                  "--phone", "15550001001", "--urgency", "urgent", "--by", "1001", "--json")
    assert created.exit_code == 0, created.output
    order = json.loads(created.output)
    assert order["serial"] == "WO-20261203-0001"
    assert order["customer"]  # the seeded customer behind that number
    deadline = datetime.fromisoformat(order["deadline"]) - datetime.fromisoformat(CLOCK)
    assert timedelta(hours=2) <= deadline < timedelta(hours=2, minutes=1)  # urgent: 2 h (the clock runs on)

    assigned = run("ticket", "assign", "WO-20261203-0001", "--department", "logistics", "--by", "sup")
    assert assigned.exit_code == 0, assigned.output
    assert "department: logistics" in assigned.output

    late = run("ticket", "list", "--overdue", "--json", clock="2026-12-03T13:00:00-05:00")
    assert [o["serial"] for o in json.loads(late.output)] == ["WO-20261203-0001"]
    table = run("ticket", "list", clock="2026-12-03T13:00:00-05:00")
    header, row = table.output.splitlines()
    assert header.split()[:4] == ["SERIAL", "TYPE", "URGENCY", "STATE"]
    assert row.index("dispatched") == header.index("STATE")  # aligned
    assert "OVERDUE" in row

    refused = run("ticket", "close", "WO-20261203-0001", "--resolution", " ", "--by", "tom")
    assert refused.exit_code == 1
    assert "give a resolution" in refused.output
    closed = run("ticket", "close", "WO-20261203-0001", "--resolution", "replaced", "--by", "tom")
    assert closed.exit_code == 0, closed.output
    visit = run("ticket", "visit", "WO-20261203-0001", "--outcome", "satisfied", "--by", "sup")
    assert visit.exit_code == 0, visit.output

    shown = json.loads(run("ticket", "show", "WO-20261203-0001", "--json").output)
    assert (shown["state"], shown["resolution"]) == ("closed", "replaced")
    assert shown["visit_outcome"] == "satisfied"
    assert [(h["by"], h["action"]) for h in shown["history"]] == [
        ("1001", "created"), ("sup", "dispatched"), ("tom", "closed"), ("sup", "visited")]


def test_clear_errors(ivr: object) -> None:
    run = ivr  # type: ignore[assignment]
    unknown = run("ticket", "show", "WO-20261203-0099")
    assert unknown.exit_code == 1
    assert "no work order 'WO-20261203-0099'" in unknown.output
    bad_type = run("ticket", "create", "--type", "praise", "--description", "x")
    assert bad_type.exit_code == 1
    assert "unknown work order type 'praise'" in bad_type.output
    assert "Traceback" not in bad_type.output + unknown.output
