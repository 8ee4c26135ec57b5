"""The retention sweep and the recordings store: rows linking recordings to calls, expired ones deleted
(file and row) by the clock the sweep is given; ``ivr calls show`` lists a call's recordings."""

from __future__ import annotations

import json
import wave
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from acd.live.recording import SavedRecording
from cli import main
from ivr_engine.config import Settings
from ivr_engine.recordings.retention import sweep_expired
from ivr_engine.recordings.store import RecordingStore, recordings_of_call
from ivr_engine.storage import Database

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _wav(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 800)
    return path


@pytest.fixture
def database(migrated_settings: Settings) -> Iterator[Database]:
    db = Database(migrated_settings.db_url)
    yield db
    db.dispose()


async def _save(database: Database, call_id: str, path: Path, age: timedelta) -> None:
    saved = SavedRecording(call_id, "1001", "billing", path, (NOW - age).timestamp(), 0.1)
    assert await RecordingStore(database).recording_saved(saved)


async def test_expired_recordings_lose_file_and_row_fresh_ones_stay(
    database: Database, tmp_path: Path
) -> None:
    old = _wav(tmp_path / "rec" / "old.wav")
    fresh = _wav(tmp_path / "rec" / "fresh.wav")
    await _save(database, "c-old", old, timedelta(days=30, seconds=1))
    await _save(database, "c-fresh", fresh, timedelta(days=29, hours=23))
    await _save(database, "c-gone", tmp_path / "rec" / "never-written.wav", timedelta(days=40))

    assert await sweep_expired(database, NOW, days=0) == []  # 0: kept for ever
    assert old.exists()
    deleted = await sweep_expired(database, NOW, days=30)
    assert len(deleted) == 2  # the old one and the row whose file was already gone
    assert not old.exists()
    assert fresh.exists()
    assert database.call(lambda s: recordings_of_call(s, "c-old")) == []
    assert database.call(lambda s: recordings_of_call(s, "c-gone")) == []
    (kept,) = database.call(lambda s: recordings_of_call(s, "c-fresh"))
    assert kept.file_path == str(fresh)
    # A day later (the clock moved, not the test's wall time) the fresh one has expired too.
    assert len(await sweep_expired(database, NOW + timedelta(days=1), days=30)) == 1
    assert not fresh.exists()


async def test_a_file_that_cannot_be_deleted_keeps_its_row(database: Database, tmp_path: Path) -> None:
    stuck = tmp_path / "rec" / "stuck.wav"
    stuck.mkdir(parents=True)  # a directory: unlink fails
    await _save(database, "c-stuck", stuck, timedelta(days=100))
    assert await sweep_expired(database, NOW, days=30) == []
    assert len(database.call(lambda s: recordings_of_call(s, "c-stuck"))) == 1


async def test_calls_show_lists_the_calls_recordings(migrated_settings: Settings, database: Database,
                                                     tmp_path: Path) -> None:
    from ivr_engine.flow.ports import CallRecord
    from ivr_engine.storage import open_stores

    async with open_stores(migrated_settings) as stores:
        await stores.calls.call_started(CallRecord("c-9", "15550001001", "100", NOW))
        await stores.calls.call_ended("c-9", NOW + timedelta(minutes=2), "completed")
    path = _wav(tmp_path / "rec" / "c-9.wav")
    await _save(database, "c-9", path, timedelta(0))
    runner = CliRunner()
    base = ["--state-dir", str(migrated_settings.state_dir)]
    env = {"IVR_DATABASE_URL": migrated_settings.database_url, "IVR_CONFIG": None}
    shown = runner.invoke(main, [*base, "calls", "show", "c-9"], env=env)
    assert shown.exit_code == 0, shown.output
    header = next(line for line in shown.output.splitlines() if line.startswith("RECORDING"))
    assert header.split() == ["RECORDING", "AGENT", "QUEUE", "STARTED", "LENGTH", "FILE"]
    assert str(path) in shown.output
    data = json.loads(runner.invoke(main, [*base, "calls", "show", "c-9", "--json"], env=env).output)
    listed = [(r["agent_id"], r["queue"], r["file"]) for r in data["recordings"]]
    assert listed == [("1001", "billing", str(path))]
