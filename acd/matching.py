"""Matching waiting calls with ready agents over an ``AcdStore``: offer a call to the best ready agent
that fits, let an agent that became ready take the most urgent call it can, estimate a caller's wait.

Matching is event driven. A call arriving (or coming back after an unanswered offer) looks only at the
ready agents holding its rarest needed skill; an agent becoming ready looks only at the head of each
(needed skills, priority band) group of each queue. The explanation of an offer comes from the store's
indexes (counts per reason, a bounded list of the nearest passed-over agents), so a decision costs
time in proportion to the ready agents, not to everyone holding a needed skill. The caller (``Acd``)
holds the store's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from acd.agent_state import StateChange, transition
from acd.errors import UnknownAgent, UnknownQueue
from acd.estimate import expected_wait
from acd.events import AcdEvent, OfferMade
from acd.model import (
    Agent,
    AgentState,
    Offer,
    PassReason,
    Queue,
    Skills,
    Strategy,
    WaitingCall,
    requirements_at,
)
from acd.routing import PASSED_OVER_NAMED, decide, eligible
from acd.store import AcdStore

__all__ = ["Matcher"]

_BUSY_STAFFED = (PassReason.RINGING, PassReason.BUSY, PassReason.WRAP_UP)


class Matcher:
    """Offers calls to agents over ``store`` for the configured ``queues``."""

    def __init__(self, queues: Mapping[str, Queue], store: AcdStore) -> None:
        self._queues = queues
        self._store = store

    def queue(self, name: str) -> Queue:
        try:
            return self._queues[name]
        except KeyError:
            raise UnknownQueue(name) from None

    def agent(self, agent_id: str) -> Agent:
        agent = self._store.agent(agent_id)
        if agent is None:
            raise UnknownAgent(agent_id)
        return agent

    def move(self, agent: Agent, to: AgentState, reason: str, now: float, **changes: Any) -> StateChange:
        """Move ``agent`` to ``to`` (``changes``: other fields of the agent) and store it."""
        moved, change = transition(agent, to, reason, now, **changes)
        self._store.save_agent(moved)
        return change

    def estimate(self, q: Queue, required: Skills, position: int) -> float | None:
        """From the pool's counts: no walk over the agents."""
        pool = self._store.pool_counts(required)
        staffed = pool.eligible + sum(pool.passed.get(r, 0) for r in _BUSY_STAFFED)
        return expected_wait(position, staffed, self._store.handle_times(q.name), q.default_handle_seconds,
                             ready_agents=pool.eligible)

    def offer_call(self, call: WaitingCall, now: float) -> list[AcdEvent]:
        """Offer ``call`` to the best ready agent that fits, if any."""
        if call.offered_to is not None:
            return []
        q = self.queue(call.queue)
        required = requirements_at(call.skills, q.escalation, now - call.enqueued_at)
        rarest = min(required, key=lambda s: (self._store.ready_count(s), s)) if required else None
        if self._store.ready_count(rarest) == 0:  # no one to offer it to: nothing more to read
            return []
        ready, counts, others = self._store.routing_reads(rarest, required, PASSED_OVER_NAMED)
        candidates = [a for a in ready if eligible(a, required)]
        if not candidates:
            return []
        turns = Strategy(q.strategy) is Strategy.ROUND_ROBIN and len(candidates) > 1  # else it ranks nothing
        decision = decide(
            required,
            q.strategy,
            now,
            candidates=candidates,
            others=others,
            counts=counts,
            rr_cursor=self._store.rr_cursor(q.name) if turns else None,
            without_any_skill=self._store.agent_count() - counts.total,
        )
        if decision is None:
            return []
        agent = self.agent(decision.chosen)
        offer = Offer(call.id, agent.id, q.name, now, now + q.ring_timeout, decision)
        change = self.move(agent, AgentState.RINGING, f"offered {call.id}", now,
                           current_call=call.id, current_queue=q.name, wrap_up_until=None)
        self._store.save_offer(offer)
        self._store.save_call(replace(call, offered_to=agent.id))
        self._store.set_rr_cursor(q.name, agent.id)
        return [change, OfferMade(offer)]

    def serve_agent(self, agent_id: str, now: float) -> list[AcdEvent]:
        """A ready agent looks for the most urgent waiting call it can take, across queues."""
        events: list[AcdEvent] = []
        tried: set[str] = set()
        while self.agent(agent_id).state is AgentState.READY:
            agent = self.agent(agent_id)
            best: WaitingCall | None = None
            for head in self._store.heads_of(sorted(self._queues)):
                if head.id in tried:
                    continue
                q = self._queues[head.queue]
                needed = requirements_at(head.skills, q.escalation, now - head.enqueued_at)
                if eligible(agent, needed) and (best is None or head.order < best.order):
                    best = head
            if best is None:
                break
            tried.add(best.id)
            events += self.offer_call(best, now)
        return events
