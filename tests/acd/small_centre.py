"""The small centre the state machines and the SQL store tests share, and a comparable view of a store."""

from __future__ import annotations

from typing import Any

from acd import AcdStore, Agent, AgentState, EscalationStep, Strategy
from acd.model import requirements_at
from acd.routing import PASSED_OVER_NAMED

from .acd_helpers import agent, queue

AGENT_IDS = ["a1", "a2", "a3", "a4"]
QUEUES = [
    queue("general", Strategy.LONGEST_IDLE, general=1),
    queue("billing", Strategy.BEST_SKILL, escalation=(EscalationStep(20, "billing", None),),
          billing=5, general=1),
    queue("orders", Strategy.ROUND_ROBIN, escalation=(EscalationStep(10, "orders", 2),), orders=6),
    queue("loyalty", Strategy.FEWEST_CALLS, loyalty=3),
]
SKILLS = {
    "a1": {"general": 5, "billing": 8},
    "a2": {"general": 5, "orders": 9, "loyalty": 6},
    "a3": {"general": 7},
    "a4": {"orders": 3, "billing": 4, "general": 1},
}


def start_agents() -> list[Agent]:
    return [agent(i, **SKILLS[i]) for i in AGENT_IDS]


def store_view(store: AcdStore, now: float) -> dict[str, Any]:
    """Everything the store answers about the small centre, comparable with ``==`` (offers with their
    decisions, which ``Offer.__eq__`` leaves out)."""
    view: dict[str, Any] = {
        "agents": store.agents(),
        "count": store.agent_count(),
        "offers": [(o, o.decision) for o in store.offers()],
        "by_state": {s: store.agents_in_state(s) for s in AgentState},
        "offer_of": {a.id: store.offer(a.id) for a in store.agents()},
    }
    for skill in ("general", "billing", "orders", "loyalty", None):
        if skill is not None:
            view[f"with {skill}"] = store.agents_with_skill(skill)
        view[f"ready {skill}"] = (store.ready_agents(skill), store.ready_count(skill))
    view["heads of every queue"] = store.heads_of([q.name for q in QUEUES])
    for q in QUEUES:
        waiting = store.waiting(q.name)
        view[q.name] = {
            "waiting": waiting,
            "positions": [store.position(c.id) for c in waiting],
            "calls": [store.call(c.id) for c in waiting],
            "heads": store.heads(q.name),
            "past max wait": store.enqueued_before(q.name, now - 7.0),
            "rr": store.rr_cursor(q.name),
            "handle": store.handle_times(q.name),
        }
        for waited in (0, 10, 20):
            needs = requirements_at(q.skills, q.escalation, waited)
            view[f"{q.name} pool {waited}"] = (store.pool_counts(needs),
                                               store.nearest_passed(needs, PASSED_OVER_NAMED))
    return view
