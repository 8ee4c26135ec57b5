"""``ivr stats service`` on SQLite and PostgreSQL: surveys per question (distribution, response rate) and
per agent, callbacks, voicemails, work orders by type/department/urgency with overdue, repeat and time to
close; the window; XLSX with charts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.records.rows import CallbackRow
from cli import main
from ivr_engine.reports.service_stats import ServiceFilter
from ivr_engine.reports.source import service_statistics
from ivr_engine.reports.sql import TimeWindow
from ivr_engine.storage import Database
from ivr_engine.storage.models import NodeEventRow, SurveyResponse, Voicemail
from ivr_engine.storage.pins import Pins
from ivr_engine.storage.seed import seed
from ivr_engine.workorders import store
from ivr_engine.workorders.model import NewOrder, Urgency, VisitOutcome
from ivr_engine.workorders.policy import DEFAULT_POLICY
from ivr_engine.workorders.visits import visit_given_up

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")


def _fill(session: Session, pins: Pins) -> None:
    seed(session, pins)
    for n, call in enumerate(("s1", "s2", "s3")):  # three calls reach the survey; two answer
        at = T0 + timedelta(minutes=n)
        session.add(NodeEventRow(call_id=call, seq=1, flow="survey", node="ask", node_type="survey",
                                 entered=at, left=at + timedelta(seconds=20), input=None,
                                 outcome="completed"))
    for call, agent, scores in (("s1", "1001", (5, 4)), ("s2", "1002", (3, 2))):
        for question, score in zip(("agent", "resolved"), scores, strict=True):
            session.add(SurveyResponse(call_id=call, agent_id=agent, survey="csat", question=question,
                                       score=score, created=T0))
    session.add_all([
        CallbackRow(call_id="c1", caller="1", number="1", queue="general", requested=T0, status="pending"),
        CallbackRow(call_id="c2", caller="2", number="2", queue="general", requested=T0, status="pending",
                    attempts=1, placed=T0 + timedelta(minutes=5)),
        CallbackRow(call_id="c3", caller="3", number="3", queue="general", requested=T0, status="done",
                    attempts=2, placed=T0 + timedelta(minutes=4), connected=T0 + timedelta(minutes=12)),
        CallbackRow(call_id="c4", caller="4", number="4", queue="general", requested=T0, status="failed",
                    attempts=3, placed=T0 + timedelta(minutes=3)),
        Voicemail(call_id="v1", caller="1", mailbox="general", file_path="/x", duration=3.0, created=T0),
        Voicemail(call_id="v2", caller="2", mailbox="general", file_path="/y", duration=3.0, created=T0,
                  heard=True, closed=T0, closed_by="sup", outcome="work_order"),
        # outside the window
        Voicemail(call_id="v0", caller="2", mailbox="general", file_path="/z", duration=3.0,
                  created=T0 - timedelta(days=30)),
    ])  # fmt: skip
    session.flush()

    def order(kind: str, urgency: Urgency = Urgency.NORMAL, at: datetime = T0, **kw: Any) -> str:
        new = NewOrder(kind=kind, description="x", by="1001", urgency=urgency, phone="15550001001", **kw)
        return store.create_order(session, DEFAULT_POLICY, new, at, NY).serial

    first = order("complaint", Urgency.URGENT, department="logistics")
    order("complaint", Urgency.URGENT, at=T0 + timedelta(hours=1))  # a repeat, never dispatched
    order("suggestion")
    store.close_order(session, DEFAULT_POLICY, first, "replaced", "tom", T0 + timedelta(hours=6))
    # return visits: one placed, answered and satisfied; one given up by the dialer; one not placed yet
    satisfied = order("after-sales")
    store.close_order(session, DEFAULT_POLICY, satisfied, "fixed", "tom", T0 + timedelta(hours=1))
    unreached = order("consultation")
    store.close_order(session, DEFAULT_POLICY, unreached, "answered", "tom", T0 + timedelta(hours=1))
    session.flush()
    for callback in session.scalars(select(CallbackRow).where(CallbackRow.kind == "return_visit")):
        if callback.work_order in (satisfied, unreached):
            callback.placed, callback.attempts = T0 + timedelta(hours=2), 1
            callback.status = "done" if callback.work_order == satisfied else "failed"
        if callback.work_order == satisfied:
            callback.connected = T0 + timedelta(hours=2)
    store.record_visit(session, satisfied, VisitOutcome.SATISFIED, "", "1001", T0 + timedelta(hours=2))
    session.flush()
    visit_given_up(session, session.scalars(select(CallbackRow).where(
        CallbackRow.work_order == unreached)).one(), T0 + timedelta(hours=3))


@pytest.fixture
def filled(database: Database, pins: Pins) -> Database:
    database.call(lambda session: _fill(session, pins))
    return database


def _table(report: Any, name: str) -> list[dict[str, Any]]:
    (table,) = [t for t in report.tables if t.name == name]
    return [dict(zip(table.keys(), row, strict=True)) for row in table.rows]


def test_the_service_report(filled: Database) -> None:
    window = TimeWindow(T0 - timedelta(days=1), T0 + timedelta(days=1))
    report = service_statistics(filled, ServiceFilter(window=window, now=T0 + timedelta(hours=4)))
    questions = _table(report, "Survey questions")
    assert [(q["question"], q["responses"], q["average"]) for q in questions] == [
        ("agent", 2, 4.0), ("resolved", 2, 3.0)]
    assert [questions[0][f"score_{s}"] for s in range(1, 6)] == [0, 0, 1, 0, 1]
    assert questions[0]["response_rate"] == pytest.approx(2 / 3, abs=0.001)
    agents = _table(report, "Survey agents")
    assert [(a["agent"], a["calls"], a["responses"], a["average"]) for a in agents] == [
        ("1001", 1, 2, 4.5), ("1002", 1, 2, 2.5)]
    assert [(c["status"], c["count"]) for c in _table(report, "Callbacks")] == [
        ("done", 1), ("failed", 1), ("pending", 2)]
    (placed,) = _table(report, "Callbacks placed")
    assert (placed["booked"], placed["placed"], placed["connected"], placed["abandoned"]) == (4, 3, 1, 1)
    assert (placed["attempts"], placed["connect_rate"], placed["minutes_to_callback"]) == (6, 0.25, 12.0)
    assert [(v["state"], v["count"]) for v in _table(report, "Voicemails")] == [
        ("closed: work_order", 1), ("new", 1)]
    by_type = {t["type"]: t for t in _table(report, "Orders by type")}
    complaint = by_type["complaint"]
    assert (complaint["opened"], complaint["closed"], complaint["repeats"]) == (2, 1, 1)
    assert complaint["overdue"] == 1  # the urgent repeat: due 2 h after it was logged, 3 h ago
    assert (complaint["overdue_rate"], complaint["repeat_rate"]) == (1.0, 0.5)
    assert complaint["hours_to_close"] == 6.0
    assert by_type["suggestion"]["overdue"] == 0
    departments = {d["department"]: d["opened"] for d in _table(report, "Orders by department")}
    assert departments == {"(not dispatched)": 4, "logistics": 1}
    assert [(s["state"], s["count"]) for s in _table(report, "Order states")] == [
        ("open", 2), ("dispatched", 0), ("closed", 3)]
    (visits,) = _table(report, "Return visits")  # not counted among the callbacks above
    assert (visits["due"], visits["placed"], visits["connected"]) == (3, 2, 1)
    assert (visits["satisfied"], visits["unsatisfied"], visits["unreached"]) == (1, 0, 1)
    assert visits["satisfaction"] == 1.0
    later = service_statistics(filled, ServiceFilter(window=TimeWindow(T0 + timedelta(days=2), None)))
    assert _table(later, "Orders by type") == []
    assert _table(later, "Survey questions") == []


def test_cli_stats_service_json_and_xlsx(filled: Database, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", filled.url.render_as_string(hide_password=False))
    monkeypatch.setenv("IVR_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("IVR_TIMEZONE", "America/New_York")
    run: Callable[..., Any] = CliRunner().invoke
    result = run(main, ["stats", "service", "--json", "--since", "2026-03-01", "--until", "2026-03-03"])
    assert result.exit_code == 0, result.output
    tables = {t["name"]: t["rows"] for t in json.loads(result.output)["tables"]}
    assert [q["responses"] for q in tables["Survey questions"]] == [2, 2]
    out = tmp_path / "service.xlsx"
    result = run(main, ["stats", "service", "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    assert "Orders by type" in workbook.sheetnames
    assert len(workbook["Survey questions"]._charts) == 1
