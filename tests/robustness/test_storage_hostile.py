"""Hostile strings at the storage layer: lookups answer not_found or error and never raise; a call whose
caller id the database cannot hold as given is still recorded. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr_engine.config import Settings
from ivr_engine.flow.ports import CallRecord, LookupStatus
from ivr_engine.storage import Database, open_stores
from ivr_engine.storage.lookups import LOOKUPS, SqlLookups
from ivr_engine.storage.pins import Pins
from ivr_engine.storage.queries import call_detail

ROBUST = settings.get_profile("robustness")

HOSTILE = [
    "'; DROP TABLE customers; --",
    "' OR '1'='1",
    '"; SELECT * FROM accounts; --',
    "100200' --",
    "%",
    "_",
    "\\",
    "",
    " ",
    "\0",
    "100\0200",
    "\ud800",
    "😀☎ünïcødé",
    "٣٤٥",  # Arabic-Indic digits
    "9" * 500,
    "é" * 20_000,
    "{{ 7 * 7 }}",
]


@pytest.fixture
async def lookups(seeded_settings: Settings, pins: Pins) -> AsyncIterator[SqlLookups]:
    database = Database(seeded_settings.db_url)
    try:
        yield SqlLookups(database, pins)
    finally:
        database.dispose()


@pytest.mark.parametrize("name", sorted(LOOKUPS))
async def test_hostile_parameters_are_not_found(lookups: SqlLookups, name: str) -> None:
    spec = LOOKUPS[name]
    for value in HOSTILE:
        result = await lookups.run(name, dict.fromkeys(spec.params, value))
        assert result.status is LookupStatus.NOT_FOUND, (value[:20], result)


async def test_hostile_strings_do_not_break_the_next_good_lookup(lookups: SqlLookups) -> None:
    for value in HOSTILE:
        await lookups.run("account_auth", {"account": value, "pin": value})
    good = await lookups.run("account_auth", {"account": "100200", "pin": "4321"})
    assert good.status is LookupStatus.FOUND
    assert good.values["balance"] == "1234.56"


@settings(ROBUST, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(LOOKUPS)), value=st.text(max_size=300))
async def test_any_text_gives_an_answer_not_an_exception(lookups: SqlLookups, name: str, value: str) -> None:
    spec = LOOKUPS[name]
    result = await lookups.run(name, dict.fromkeys(spec.params, value))
    assert result.status in (LookupStatus.NOT_FOUND, LookupStatus.FOUND, LookupStatus.ERROR)


@pytest.mark.parametrize(
    ("caller", "stored"),
    [
        ("x" * 200, "x" * 64),
        ("a\0b", "ab"),
        ("\ud800555", "?555"),
        ('Ünïcødé "O\'Brien"; DROP TABLE calls; --', 'Ünïcødé "O\'Brien"; DROP TABLE calls; --'),
        ("", ""),
    ],
    ids=["200-chars", "nul", "lone-surrogate", "quotes-unicode-sql", "empty"],
)
async def test_a_call_with_an_odd_caller_id_is_still_recorded(
    migrated_settings: Settings, caller: str, stored: str
) -> None:
    now = datetime.now(UTC)
    async with open_stores(migrated_settings) as stores:
        await stores.calls.call_started(CallRecord("odd-1", caller, "100", now))
        await stores.calls.call_ended("odd-1", now, "completed")
        assert await stores.writer.flush()
        detail = await stores.database.run(lambda session: call_detail(session, "odd-1"))
        assert stores.writer.dead_lettered == 0
    assert detail is not None
    assert (detail.call.caller, detail.call.disposition) == (stored, "completed")
