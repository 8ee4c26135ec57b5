"""Bad-input robustness tests: a deterministic hypothesis profile and a seeded SQLite database.

The ``robustness`` profile is derandomized (the same examples on every run, so CI is reproducible)
and has no deadline (CI runs on two slow cores). Tests apply it with ``@ROBUST`` / ``robust(n)``
rather than loading it globally, so other suites keep their own hypothesis settings.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ivr_engine.config import Settings
from ivr_engine.storage import Database
from ivr_engine.storage.migrate import upgrade
from ivr_engine.storage.pins import PinKeyFile, Pins
from ivr_engine.storage.seed import seed

settings.register_profile(
    "robustness",
    derandomize=True,
    deadline=None,
    max_examples=40,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

ROOT = Path(__file__).parents[2]
FLOWS = ROOT / "flows"


@pytest.fixture
def seeded_sqlite(tmp_path: Path) -> Settings:
    """Settings over a migrated, seeded SQLite file (the live-path tests need no PostgreSQL twin)."""
    state = tmp_path / "state"
    result = Settings(state_dir=state, database_url=f"sqlite:///{tmp_path / 'ivr.db'}", http_port=0)
    database = Database(result.db_url)
    try:
        upgrade(database)
        database.call(lambda session: seed(session, Pins(PinKeyFile(result.pin_key_path))))
    finally:
        database.dispose()
    return result
