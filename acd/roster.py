"""The configured agents (``acd.yaml``) brought into a store that may already hold them.

A restarted service, or a second node, finds the agents in the store with their state (logged in,
paused and why, on a call): ``sync_roster`` adds the agents the store does not have and updates the
configuration of those it has (name, endpoint, skills) without touching their state. Agents the store
holds that the configuration no longer names are left as they are (an operator logs them out).
The transaction locks every queue: on a shared store no operation of another node runs meanwhile, so
the pool counts moved for changed skills (``acd.sql_pools``) never wait on an operation's in turn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from acd.model import Agent
from acd.store import EVERY_QUEUE, AcdStore

__all__ = ["sync_roster"]


def sync_roster(store: AcdStore, agents: Iterable[Agent]) -> list[str]:
    """Upsert ``agents``' configuration in one transaction; the ids of the agents added or changed."""
    touched: list[str] = []
    with store.transaction(EVERY_QUEUE):
        for agent in agents:
            stored = store.agent(agent.id)
            if stored is None:
                store.save_agent(agent)
            elif (stored.name, stored.endpoint, dict(stored.skills)) != (agent.name, agent.endpoint,
                                                                          dict(agent.skills)):
                store.save_agent(replace(stored, name=agent.name, endpoint=agent.endpoint,
                                         skills=dict(agent.skills)))
            else:
                continue
            touched.append(agent.id)
    return touched
