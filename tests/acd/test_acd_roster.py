"""The configured agents are upserted into a store that already holds them: configuration changes,
state does not (a restarted service finds its agents as they were)."""

from __future__ import annotations

from dataclasses import replace

import acd
from acd.roster import sync_roster
from acd.sql_store import SqlStore

QUEUE = acd.Queue("general", {"general": 1})
ANN = acd.Agent("1001", "Ann", "PJSIP/1001", {"general": 5})
BOB = acd.Agent("1002", "Bob", "PJSIP/1002", {"general": 5})


def test_a_stored_agent_keeps_state_and_pause_reason_and_takes_the_new_configuration(
    sql_store: SqlStore,
) -> None:
    engine = acd.Acd([QUEUE], store=sql_store, agents=[ANN, BOB])
    engine.login("1001", 10.0)
    engine.login("1002", 11.0, paused_reason="lunch")

    renamed = replace(BOB, name="Robert", endpoint="PJSIP/2002", skills={"general": 9, "billing": 3})
    carol = acd.Agent("1003", "Carol", "PJSIP/1003", {"general": 2})
    restarted = SqlStore(sql_store.url)  # a new store on the same database, as after a restart
    try:
        touched = sync_roster(restarted, [ANN, renamed, carol])
        bob = restarted.agent("1002")
        ann = restarted.agent("1001")
        new = restarted.agent("1003")
    finally:
        restarted.close()

    assert touched == ["1002", "1003"]  # Ann's configuration did not change: not written
    assert bob is not None
    assert ann is not None
    assert new is not None
    assert (bob.state, bob.pause_reason, bob.state_since) == (acd.AgentState.PAUSED, "lunch", 11.0)
    assert (bob.name, bob.endpoint) == ("Robert", "PJSIP/2002")
    assert dict(bob.skills) == {"general": 9, "billing": 3}
    assert (ann.state, ann.state_since) == (acd.AgentState.READY, 10.0)
    assert new.state is acd.AgentState.LOGGED_OUT


def test_the_memory_store_gets_the_same_upsert() -> None:
    store = acd.MemoryStore()
    engine = acd.Acd([QUEUE], store=store, agents=[BOB])
    engine.login("1002", 5.0, paused_reason="lunch")
    sync_roster(store, [replace(BOB, skills={"billing": 4})])
    bob = store.agent("1002")
    assert bob is not None
    assert (bob.state, bob.pause_reason, dict(bob.skills)) == (acd.AgentState.PAUSED, "lunch", {"billing": 4})
    assert [a.id for a in store.agents_with_skill("billing")] == ["1002"]  # indexes follow the skills
    assert store.agents_with_skill("general") == []
