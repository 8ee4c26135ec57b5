"""The live runtime calls the engine on one worker thread, never on the event loop; operators read a
view of the state refreshed after every operation; the store is chosen by ``acd_store``."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest

import acd
from acd.live.wiring import open_acd_store
from acd.sql_store import SqlStore
from ivr_engine.config import ConfigError, Settings
from tests.queues.conftest import Lab


class ThreadRecordingStore(acd.MemoryStore):
    """A memory store noting the thread of every call to it."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()

    def __getattribute__(self, name: str) -> Any:
        found = super().__getattribute__(name)
        if not name.startswith("_") and callable(found):
            super().__getattribute__("threads").add(threading.get_ident())
        return found


async def test_every_engine_call_of_a_queued_and_answered_call_runs_on_one_worker_thread(
    start_lab: Any,
) -> None:
    store = ThreadRecordingStore()
    lab: Lab = await start_lab(store=store)
    store.threads.clear()  # building the engine (before the service starts) is not the runtime's
    await lab.runtime.login("1001")
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: lab.legs("c1"))
    await lab.agent_answers(lab.legs("c1")[0][0], "c1")
    await lab.until(lambda: lab.fake.bridges)
    await lab.fake.caller_hangup("c1")
    await lab.until(lambda: lab.facts.of("ended"))  # the call ended in the ACD too (end_call)
    await lab.runtime.drain()

    assert len(store.threads) == 1, store.threads
    assert threading.get_ident() not in store.threads  # the event loop's thread never touched it


async def test_operators_read_the_state_as_of_the_latest_operation(start_lab: Any) -> None:
    lab: Lab = await start_lab()
    await lab.runtime.login("1002")
    await lab.runtime.pause("1002", "lunch")

    shown = {a.id: (a.state, a.pause_reason) for a in lab.runtime.agents()}
    assert shown["1002"] == (acd.AgentState.PAUSED, "lunch")
    assert shown["1001"] == (acd.AgentState.LOGGED_OUT, "")
    await lab.fake.incoming("c1", "100")
    await lab.until(lambda: lab.runtime.waiting_calls())
    assert [c.id for c in lab.runtime.waiting_calls()] == ["c1"]
    assert [len(s.waiting) for s in lab.runtime.queue_statuses()] == [1]


def test_the_acd_store_setting_picks_the_store(tmp_path: Any) -> None:
    settings = Settings(state_dir=tmp_path)
    sql = open_acd_store(settings)
    assert isinstance(sql, SqlStore)
    assert sql.url == settings.db_url
    sql.close()
    assert isinstance(open_acd_store(replace(settings, acd_store="memory")), acd.MemoryStore)
    with pytest.raises(ConfigError, match="acd_store: 'redis' is not one of sql, memory"):
        open_acd_store(replace(settings, acd_store="redis"))
