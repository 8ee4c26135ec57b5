"""PostgreSQL batches (``acd.sql_batch``): statements prepared once per connection stay usable."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import ProgrammingError

from acd import Acd, AgentState
from acd.sql_store import SqlStore

from .small_centre import QUEUES, start_agents


@pytest.mark.postgres
def test_postgres_prepared_statements_outlive_a_rollback_and_come_back_after_a_deallocate(
        postgres_acd_url: str) -> None:
    store = SqlStore(postgres_acd_url)
    try:
        engine = Acd(QUEUES, store=store, agents=start_agents())
        engine.login("a1", 1.0)
        with pytest.raises(RuntimeError, match="rolled back"):
            _pause_then_fail(engine, store)
        engine.pause("a1", "lunch", 3.0)  # psycopg's own preparing dropped them all at a rollback
        assert engine.agent("a1").state is AgentState.PAUSED
        with store.engine.connect() as conn:  # the store's one pooled connection
            conn.exec_driver_sql("DEALLOCATE ALL")
        with pytest.raises(ProgrammingError, match="does not exist"):
            engine.ready("a1", 4.0)
        engine.ready("a1", 5.0)  # prepared again
        assert engine.agent("a1").state is AgentState.READY
    finally:
        store.close()


def _pause_then_fail(engine: Acd, store: SqlStore) -> None:
    with store.transaction():
        engine.pause("a1", "lunch", 2.0)
        raise RuntimeError("rolled back")
