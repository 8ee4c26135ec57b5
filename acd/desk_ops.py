"""ACD operations for the agent desktop's call controls that routing itself never makes.

- ``offer_to_agent``: a blind transfer to a named agent queues the call in ``queue`` and offers it to that
  agent at once, whatever the queue's strategy would pick. Should the agent not answer, the offer ends as
  any other (the agent is paused "no answer") and the call keeps its place in ``queue``, where the next
  tick offers it to whoever fits: the caller is never left without a way to an agent.
- ``extend_wrap_up``: more wrap-up time, from the desk, bounded by ``MAX_WRAP_UP_LEFT``.

Each runs in one store transaction locking every queue, like the engine's own operations, and returns
the events it caused (the runtime applies them as it applies the engine's).
"""

from __future__ import annotations

from dataclasses import replace

from acd.agent_state import transition
from acd.engine import Acd
from acd.errors import DuplicateCall, InvalidTransition
from acd.events import AcdEvent, CallQueued, OfferMade
from acd.model import AgentState, Decision, Offer, WaitingCall

__all__ = ["MAX_WRAP_UP_LEFT", "extend_wrap_up", "offer_to_agent"]

MAX_WRAP_UP_LEFT = 600.0
"""Seconds of wrap-up an agent may have left at most after extending it."""


def offer_to_agent(
    engine: Acd, call_id: str, caller: str, queue: str, agent_id: str, now: float, *,
    priority: int = 0, vip: bool = False, why: str = "transferred",
) -> list[AcdEvent]:
    """Queue ``call_id`` in ``queue`` and ring ``agent_id`` for it (``InvalidTransition`` unless the
    agent is ready; ``UnknownQueue``/``UnknownAgent``/``DuplicateCall`` as the engine raises them)."""
    store = engine.store
    with store.transaction(*engine.queues):
        q = engine.queue(queue)
        agent = engine.agent(agent_id)
        if agent.state is not AgentState.READY:
            raise InvalidTransition(agent_id, agent.state.value, AgentState.RINGING.value, "not ready")
        if store.call(call_id) is not None:
            raise DuplicateCall(call_id)
        call = WaitingCall(id=call_id, caller=caller, queue=q.name, enqueued_at=now, seq=store.next_seq(),
                           skills=dict(q.skills), priority=priority, vip=vip, offered_to=agent_id)
        store.save_call(call)
        decision = Decision(chosen=agent_id, strategy=q.strategy, why=why, required={})
        offer = Offer(call_id, agent_id, q.name, now, now + q.ring_timeout, decision)
        moved, change = transition(agent, AgentState.RINGING, f"offered {call_id}", now,
                                   current_call=call_id, current_queue=q.name, wrap_up_until=None)
        store.save_agent(moved)
        store.save_offer(offer)
        return [CallQueued(call, store.position(call_id)), change, OfferMade(offer)]


def extend_wrap_up(engine: Acd, agent_id: str, seconds: float, now: float) -> float:
    """Add ``seconds`` to the agent's wrap-up (at most ``MAX_WRAP_UP_LEFT`` left); the new seconds left.
    ``InvalidTransition`` unless the agent is in wrap-up."""
    store = engine.store
    with store.transaction(*engine.queues):
        agent = engine.agent(agent_id)
        if agent.state is not AgentState.WRAP_UP or agent.wrap_up_until is None:
            raise InvalidTransition(agent_id, agent.state.value, AgentState.WRAP_UP.value, "not in wrap-up")
        until = min(max(agent.wrap_up_until, now) + seconds, now + MAX_WRAP_UP_LEFT)
        store.save_agent(replace(agent, wrap_up_until=until))
        return until - now
