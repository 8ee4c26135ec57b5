"""ACD operations for the agent desktop's call controls that routing itself never makes.

- ``offer_to_agent``: a blind transfer to a named agent queues the call in ``queue`` and offers it to that
  agent at once, whatever the queue's strategy would pick. Should the agent not answer, the offer ends as
  any other (the agent is paused "no answer") and the call keeps its place in ``queue``, where the next
  tick offers it to whoever fits: the caller is never left without a way to an agent.
- ``extend_wrap_up``: more wrap-up time, from the desk, bounded by ``MAX_WRAP_UP_LEFT``.
- A consult transfer (``acd.live.consult``): ``offer_consult`` rings a ready target with an offer whose
  call id is ``consult_id(call)`` (the store's offer rules apply: one offer per agent, one per call id,
  so the database refuses a double offer; the target is ringing, then on a call, so no queue offers
  them anything meanwhile); ``answer_consult`` puts the target on the consult; ``end_consult`` frees
  the target (a consult ringing: the offer is withdrawn; talking: a zero-length wrap-up, then ready);
  ``complete_consult`` hands the call to the target and ends the first agent's call (wrap-up).

  Queue statistics: a consult is not a queue call. No ``CallQueued``/``CallAnswered``/abandon is made
  for it, so the queue's offered, answered and abandoned counts, waits and service level do not move;
  the call is counted once, answered by the agent who took it from the queue. The target's state
  changes are recorded as any (agent occupancy); on completion the target's ``calls_taken`` counts
  the call and their handle time runs from the handover, the first agent's up to it.

Each runs in one store transaction locking every queue, like the engine's own operations, and returns
the events it caused (the runtime applies them as it applies the engine's).
"""

from __future__ import annotations

from dataclasses import replace

from acd.agent_state import transition
from acd.engine import Acd
from acd.errors import DuplicateCall, InvalidTransition, NoOffer
from acd.events import AcdEvent, CallQueued, OfferEnded, OfferMade, OfferResult
from acd.model import AgentState, Decision, Offer, WaitingCall

__all__ = [
    "MAX_WRAP_UP_LEFT",
    "answer_consult",
    "complete_consult",
    "consult_id",
    "consulted_call",
    "end_consult",
    "extend_wrap_up",
    "offer_consult",
    "offer_to_agent",
]

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


_CONSULT = ".consult"


def consult_id(call_id: str) -> str:
    """The call id of the consult leg of ``call_id`` (the target's offer and current call)."""
    return f"{call_id}{_CONSULT}"


def consulted_call(call_id: str) -> str | None:
    """The call a consult id belongs to; None for any other call id."""
    return call_id[: -len(_CONSULT)] if call_id.endswith(_CONSULT) else None


def offer_consult(
    engine: Acd, call_id: str, queue: str, target: str, by_agent: str, now: float
) -> list[AcdEvent]:
    """Ring ``target`` for a consult on ``call_id`` (``InvalidTransition`` unless ready)."""
    store = engine.store
    with store.transaction(*engine.queues):
        q = engine.queue(queue)
        agent = engine.agent(target)
        if agent.state is not AgentState.READY:
            raise InvalidTransition(target, agent.state.value, AgentState.RINGING.value, "not ready")
        cid = consult_id(call_id)
        why = f"consult by agent {by_agent}"
        decision = Decision(chosen=target, strategy=q.strategy, why=why, required={})
        offer = Offer(cid, target, q.name, now, now + q.ring_timeout, decision)
        moved, change = transition(agent, AgentState.RINGING, f"consult on {call_id}", now,
                                   current_call=cid, current_queue=q.name, wrap_up_until=None)
        store.save_agent(moved)
        store.save_offer(offer)
        return [change, OfferMade(offer)]


def answer_consult(engine: Acd, target: str, call_id: str, now: float) -> list[AcdEvent]:
    """The target picked up the consult (``NoOffer`` unless ringing for it)."""
    store = engine.store
    with store.transaction(*engine.queues):
        agent = engine.agent(target)
        offer = store.offer(target)
        if offer is None or offer.call_id != consult_id(call_id) or agent.state is not AgentState.RINGING:
            raise NoOffer(target, agent.state.value)
        store.remove_offer(target)
        moved, change = transition(agent, AgentState.ON_CALL, "consult answered", now, answered_at=now)
        store.save_agent(moved)
        return [OfferEnded(offer, OfferResult.ANSWERED, now), change]


def end_consult(engine: Acd, target: str, call_id: str, now: float, reason: str) -> list[AcdEvent]:
    """The consult is over without a handover: the target is ready again (nothing if they are no
    longer on it: a no-answer already paused them, say)."""
    store = engine.store
    free = {"current_call": None, "current_queue": None, "answered_at": None, "wrap_up_until": None}
    with store.transaction(*engine.queues):
        agent = engine.agent(target)
        cid = consult_id(call_id)
        offer = store.offer(target)
        if offer is not None and offer.call_id == cid:
            store.remove_offer(target)
            moved, change = transition(agent, AgentState.READY, reason, now, **free)
            store.save_agent(moved)
            return [OfferEnded(offer, OfferResult.WITHDRAWN, now), change]
        if agent.state is not AgentState.ON_CALL or agent.current_call != cid:
            return []
        wrapped, first = transition(agent, AgentState.WRAP_UP, reason, now,
                                    last_call_end=now, wrap_up_until=now)
        ready, second = transition(wrapped, AgentState.READY, "consult over", now, **free)
        store.save_agent(ready)
        return [first, second]


def complete_consult(engine: Acd, by_agent: str, target: str, call_id: str, now: float) -> list[AcdEvent]:
    """The target takes ``call_id`` over (``InvalidTransition`` unless on its consult); ``by_agent``'s
    call ends (wrap-up, as ``Acd.end_call``)."""
    store = engine.store
    with store.transaction(*engine.queues):
        agent = engine.agent(target)
        if agent.state is not AgentState.ON_CALL or agent.current_call != consult_id(call_id):
            raise InvalidTransition(target, agent.state.value, AgentState.ON_CALL.value, "not on the consult")
        store.save_agent(replace(agent, current_call=call_id, answered_at=now,
                                 calls_taken=agent.calls_taken + 1))
        return engine.end_call(by_agent, now)
