"""Migrations reach head on SQLite and PostgreSQL, re-run safely, and match the ORM models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from acd.records import rows as _acd_rows  # noqa: F401 - registers its tables and the live state's
from ivr_engine.config import Settings
from ivr_engine.storage import Database
from ivr_engine.storage.migrate import current_revision, head_revision, upgrade
from ivr_engine.storage.models import Base
from ivr_engine.workorders import rows as _work_order_rows  # noqa: F401 - registers its tables

OUR_TABLES = {
    "customers",
    "customer_phones",
    "accounts",
    "orders",
    "loyalty_members",
    "calls",
    "node_events",
    "voicemails",
    "survey_responses",
    # the ACD's live state (acd.sql_tables, registered by acd.records.rows)
    "acd_agents",
    "acd_agent_skills",
    "acd_waiting_calls",
    "acd_offers",
    "acd_counters",
    "acd_rr_cursors",
    "acd_handle_times",
    "acd_pools",
    "acd_pool_members",
    "acd_pool_counts",
    # work orders (ivr_engine.workorders.rows)
    "work_orders",
    "work_order_events",
    # callbacks booked and placed (acd.records.rows)
    "callbacks",
    "callback_attempts",
}


def test_upgrade_reaches_head_and_is_safe_to_rerun(db_settings: Settings) -> None:
    database = Database(db_settings.db_url)
    try:
        assert current_revision(database) is None
        assert upgrade(database) == head_revision()
        assert upgrade(database) == head_revision()
        tables = set(inspect(database.engine).get_table_names())
    finally:
        database.dispose()
    assert tables >= OUR_TABLES


def test_node_event_indexes_exist(migrated_settings: Settings) -> None:
    database = Database(migrated_settings.db_url)
    try:
        indexes = {tuple(ix["column_names"]) for ix in inspect(database.engine).get_indexes("node_events")}
    finally:
        database.dispose()
    assert ("call_id", "seq") in indexes
    assert ("flow", "node") in indexes


def test_migrations_match_the_models(migrated_settings: Settings) -> None:
    database = Database(migrated_settings.db_url)
    try:
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
    finally:
        database.dispose()
    ours = [diff for diff in diffs if _table_of(diff) in OUR_TABLES]
    assert ours == []


def _table_of(diff: object) -> str:
    """The table an autogenerate diff entry concerns (a tuple, or a list of ``modify_*`` tuples)."""
    entry = diff[0] if isinstance(diff, list) else diff
    assert isinstance(entry, tuple)
    kind = entry[0]
    if kind in {"add_table", "remove_table"}:
        return str(entry[1].name)
    if kind in {"add_column", "remove_column"} or kind.startswith("modify_"):
        return str(entry[2])
    if kind in {"add_fk", "remove_fk"}:
        return str(entry[1].parent.name)
    return str(entry[1].table.name)  # indexes and constraints
