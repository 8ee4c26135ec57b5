"""The service registers the agents of acd.yaml at start-up, so `ivr stats acd` names every agent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from acd.live import acd_runtime
from acd.records import AcdRecorder
from acd.records.rows import AgentRow
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.fake import FakeAri
from ivr_engine.config import Settings
from ivr_engine.reports import AcdFilter, query_acd_stats
from ivr_engine.reports.source import read
from ivr_engine.storage import Database

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ACD_YAML = """
agents:
  - {{id: "2001", name: {first}, endpoint: PJSIP/2001, skills: {{general: 5}}}}
  - {{id: "2002", endpoint: PJSIP/2002, skills: {{general: 5}}}}
queues:
  - {{name: general, skills: {{general: 1}}}}
"""


async def _start_and_stop(settings: Settings, database: Database) -> None:
    fake = FakeAri()
    await fake.start()
    client = AriClient.open(fake.config)
    try:
        async with acd_runtime(settings, client, facts=AcdRecorder(database)):
            pass
    finally:
        await client.close()
        await fake.close()


def _agent_rows(database: Database) -> list[tuple[str, str, str]]:
    rows = database.call(lambda s: s.scalars(select(AgentRow).order_by(AgentRow.id)).all())
    return [(r.id, r.name, r.endpoint) for r in rows]


async def test_start_up_registers_the_configured_agents(migrated_settings: Settings, tmp_path: Path) -> None:
    agents_file = tmp_path / "acd.yaml"
    agents_file.write_text(ACD_YAML.format(first="Ann Lee"))
    settings = replace(migrated_settings, agents_file=agents_file)
    database = Database(settings.db_url)
    try:
        await _start_and_stop(settings, database)
        assert _agent_rows(database) == [
            ("2001", "Ann Lee", "PJSIP/2001"),
            ("2002", "Agent 2002", "PJSIP/2002"),  # no name in acd.yaml: the default one
        ]

        recorder = AcdRecorder(database)
        assert await recorder.queue_call_enqueued(call_id="c1", queue="general", caller="555", priority=0,
                                                  enqueued=T0, predicted_wait_s=None)
        assert await recorder.queue_call_answered(call_id="c1", agent_id="2001",
                                                  answered=T0 + timedelta(seconds=5))
        stats = read(database, lambda conn: query_acd_stats(conn, AcdFilter()))
        assert [(a.agent_id, a.name) for a in stats.agents] == [("2001", "Ann Lee")]

        agents_file.write_text(ACD_YAML.format(first="Ann Lee-Park"))  # renamed in acd.yaml, restarted
        await _start_and_stop(settings, database)
        assert _agent_rows(database)[0] == ("2001", "Ann Lee-Park", "PJSIP/2001")
    finally:
        database.dispose()
