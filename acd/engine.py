"""The ACD engine: agent commands, call arrivals and offer outcomes in, typed events out.

Every public method takes the clock value ``now`` and returns the events it caused, in order. The engine
keeps no state of its own besides the queue configuration: everything shared lives in the ``AcdStore``.

Which agent gets which call is ``acd.matching.Matcher``'s job (event driven: a call looks at the ready
agents holding its rarest needed skill, a ready agent at the heads of the queues). ``tick(now)`` expires
offers, wrap-ups and max waits and retries the heads whose needed skills relaxed with waiting time.

Each operation runs in one ``AcdStore.transaction``: with a database store it is stored whole or, if
it raises, not at all. The transaction names the queues it locks on a shared store (several nodes on
PostgreSQL): ``enqueue`` its queue only; every other operation may route an agent to any queue's
calls (or, answering or ending a call, change an agent another operation could be routing), so it
locks every queue (``EVERY_QUEUE``, one lock): operations of different nodes that could pick the same
call or agent never interleave. The engine is synchronous; over a database store it blocks on every
query, so the live service calls it from one worker thread, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from acd.errors import DuplicateCall, InvalidTransition, NoOffer, UnknownCall
from acd.estimate import WaitAccuracy
from acd.events import (
    AcdEvent,
    CallAbandoned,
    CallAnswered,
    CallOverflowed,
    CallQueued,
    OfferEnded,
    OfferResult,
)
from acd.matching import Matcher
from acd.model import (
    Agent,
    AgentState,
    Offer,
    PassReason,
    Queue,
    Skills,
    WaitingCall,
    callback_of,
    requirements_at,
)
from acd.store import AcdStore, MemoryStore, in_transaction, locking_every_queue
from acd.strategies import strategy_for

__all__ = ["NO_ANSWER", "Acd", "QueueStatus"]

NO_ANSWER = "no answer"
_READY_REFUSALS = {
    AgentState.READY: "already ready",
    AgentState.LOGGED_OUT: "log in first",
    AgentState.RINGING: "answer or reject the ringing call first",
}
_STATE_OF_REASON = {
    PassReason.LOGGED_OUT: AgentState.LOGGED_OUT,
    PassReason.PAUSED: AgentState.PAUSED,
    PassReason.RINGING: AgentState.RINGING,
    PassReason.BUSY: AgentState.ON_CALL,
    PassReason.WRAP_UP: AgentState.WRAP_UP,
}


@dataclass(frozen=True)
class QueueStatus:
    queue: str
    waiting: tuple[WaitingCall, ...]
    longest_wait: float
    agents_by_state: dict[AgentState, int]


class Acd:
    """Skills-based routing over an ``AcdStore``; see the module docstring."""

    def __init__(self, queues: Iterable[Queue], store: AcdStore | None = None, agents: Iterable[Agent] = ()):
        """Raises ``UnknownStrategy`` for a queue whose strategy has none in the registry.

        Naming each queue's pool at every escalation stage to the store up front (``track_pools``) lets
        an indexing store keep those counts from the start instead of counting them at each decision."""
        self._queues = {q.name: q for q in queues}
        for q in self._queues.values():
            strategy_for(q.strategy, q.name)  # an unknown strategy is refused here, not at the first call
        self._store: AcdStore = store if store is not None else MemoryStore()
        self._matcher = Matcher(self._queues, self._store)
        with self._store.transaction():
            self._store.track_pools(
                requirements_at(q.skills, q.escalation, waited)
                for q in self._queues.values()
                for waited in sorted({0.0, *(step.after_seconds for step in q.escalation)}))
            for agent in agents:
                if self._store.agent(agent.id) is None:
                    self._store.save_agent(agent)

    @property
    def store(self) -> AcdStore:
        return self._store

    @property
    def queues(self) -> dict[str, Queue]:
        return dict(self._queues)

    def queue(self, name: str) -> Queue:
        return self._matcher.queue(name)

    def agent(self, agent_id: str) -> Agent:
        return self._matcher.agent(agent_id)

    def call(self, call_id: str) -> WaitingCall:
        call = self._store.call(call_id)
        if call is None:
            raise UnknownCall(call_id)
        return call

    # agent commands

    @locking_every_queue
    def login(self, agent_id: str, now: float, paused_reason: str = "") -> list[AcdEvent]:
        """Log in ready, or paused with ``paused_reason``."""
        if not paused_reason:
            self._store.will_route(sorted(self._queues))
        agent = self.agent(agent_id)
        if agent.state is not AgentState.LOGGED_OUT:
            raise InvalidTransition(agent_id, agent.state.value, "login", "already logged in")
        if paused_reason:
            return [self._matcher.move(agent, AgentState.PAUSED, paused_reason, now)]
        return [self._matcher.move(agent, AgentState.READY, "login", now),
                *self._matcher.serve_agent(agent_id, now)]

    @locking_every_queue
    def logout(self, agent_id: str, now: float) -> list[AcdEvent]:
        """Log out; a ringing offer is withdrawn and its call routed again. Refused while on a call."""
        return self._leave(agent_id, AgentState.LOGGED_OUT, "logout", now)

    @locking_every_queue
    def pause(self, agent_id: str, reason: str, now: float) -> list[AcdEvent]:
        """Pause with a reason code; a ringing offer is withdrawn. Refused while on a call."""
        state = self.agent(agent_id).state
        if not reason or state is AgentState.LOGGED_OUT:
            detail = "a reason is needed" if not reason else "log in first"
            raise InvalidTransition(agent_id, state.value, AgentState.PAUSED.value, detail)
        return self._leave(agent_id, AgentState.PAUSED, reason, now)

    @locking_every_queue
    def ready(self, agent_id: str, now: float) -> list[AcdEvent]:
        """Become ready (from paused, or ending wrap-up early) and take a waiting call if one fits."""
        self._store.will_route(sorted(self._queues))
        agent = self.agent(agent_id)
        refusal = _READY_REFUSALS.get(agent.state)
        if refusal:
            raise InvalidTransition(agent_id, agent.state.value, AgentState.READY.value, refusal)
        change = self._matcher.move(agent, AgentState.READY, "ready", now, **_FREE)
        return [change, *self._matcher.serve_agent(agent_id, now)]

    # calls

    def enqueue(
        self,
        call_id: str,
        caller: str,
        queue: str,
        now: float,
        *,
        priority: int = 0,
        vip: bool = False,
        skills: Skills | None = None,
        enqueued_at: float | None = None,
    ) -> list[AcdEvent]:
        """Queue a call (``skills`` default to the queue's) and offer it at once if an agent fits.
        ``enqueued_at`` (default ``now``) is its place in line: a callback keeps the time the caller first
        joined the queue (``model.callback_entry``).

        Locks only ``queue``: it changes nothing but the new call and, if it is offered, one ready agent
        (which a shared store locks as it lists the ready agents)."""
        with self._store.transaction(queue):
            return self._enqueue(call_id, caller, queue, now, priority=priority, vip=vip, skills=skills,
                                 enqueued_at=now if enqueued_at is None else enqueued_at)

    def _enqueue(self, call_id: str, caller: str, queue: str, now: float, *, priority: int, vip: bool,
                 skills: Skills | None, enqueued_at: float) -> list[AcdEvent]:
        q = self.queue(queue)
        if self._store.call(call_id) is not None:
            raise DuplicateCall(call_id)
        call = WaitingCall(
            id=call_id,
            caller=caller,
            queue=queue,
            enqueued_at=enqueued_at,
            seq=self._store.next_seq(),
            skills=dict(q.skills if skills is None else skills),
            priority=priority,
            vip=vip,
        )
        self._store.save_call(call)
        position = self._store.position(call_id)
        call = replace(call, predicted_wait=self._matcher.estimate(q, call.skills, position))
        self._store.save_call(call)
        return [CallQueued(call, position), *self._matcher.offer_call(call, now)]

    @locking_every_queue
    def answer(self, agent_id: str, now: float) -> list[AcdEvent]:
        """The agent picked up: the call leaves the queue; bridge it."""
        offer, agent = self._ringing(agent_id)
        call = self.call(offer.call_id)
        self._store.remove_offer(agent_id)
        self._store.remove_call(call.id)
        change = self._matcher.move(agent, AgentState.ON_CALL, "answered", now,
                                    answered_at=now, calls_taken=agent.calls_taken + 1)
        waited = now - call.enqueued_at
        accuracy = WaitAccuracy(call.id, call.queue, agent_id, call.predicted_wait, waited)
        ended = OfferEnded(offer, OfferResult.ANSWERED, now)
        return [ended, change, CallAnswered(call, agent_id, now, accuracy)]

    @locking_every_queue
    def reject(self, agent_id: str, now: float, reason: str = "rejected") -> list[AcdEvent]:
        """The agent refused or could not be reached: paused with ``reason``; the next agent is tried."""
        return self._unanswered(agent_id, OfferResult.REJECTED, reason, now)

    @locking_every_queue
    def end_call(self, agent_id: str, now: float) -> list[AcdEvent]:
        """The agent's call is over: wrap-up for the queue's wrap-up seconds (ready at once if zero)."""
        if any(q.wrap_up_seconds <= 0 for q in self._queues.values()):  # it may become ready now
            self._store.will_route(sorted(self._queues))
        agent = self.agent(agent_id)
        if agent.state is not AgentState.ON_CALL:
            raise InvalidTransition(agent_id, agent.state.value, AgentState.WRAP_UP.value, "no call to end")
        q = self.queue(agent.current_queue or "")
        if agent.answered_at is not None:
            self._store.record_handle_time(q.name, now - agent.answered_at)
        wrap_up = self._matcher.move(agent, AgentState.WRAP_UP, "call ended", now,
                                     last_call_end=now, wrap_up_until=now + q.wrap_up_seconds)
        events: list[AcdEvent] = [wrap_up]
        if q.wrap_up_seconds <= 0:
            ready = self._matcher.move(self.agent(agent_id), AgentState.READY, "wrap-up done", now, **_FREE)
            events += [ready, *self._matcher.serve_agent(agent_id, now)]
        return events

    @locking_every_queue
    def abandon(self, call_id: str, now: float) -> list[AcdEvent]:
        """The caller hung up while waiting or ringing: recorded; a ringing agent goes back to ready."""
        call = self.call(call_id)
        events: list[AcdEvent] = []
        self._store.remove_call(call_id)
        if call.offered_to is not None:
            offer = self._store.offer(call.offered_to)
            agent = self.agent(call.offered_to)
            self._store.remove_offer(agent.id)
            if offer is not None:
                events.append(OfferEnded(offer, OfferResult.ABANDONED, now))
            events.append(self._matcher.move(agent, AgentState.READY, "caller abandoned", now, **_FREE))
            events.append(CallAbandoned(call, now, now - call.enqueued_at))
            return events + self._matcher.serve_agent(agent.id, now)
        return [CallAbandoned(call, now, now - call.enqueued_at)]

    @locking_every_queue
    def tick(self, now: float) -> list[AcdEvent]:
        """Time passed: unanswered offers, finished wrap-ups, max waits, skill escalation."""
        events: list[AcdEvent] = []
        for offer in self._store.offers():
            if offer.expires_at <= now:
                events += self._unanswered(
                    offer.agent_id, OfferResult.TIMED_OUT, NO_ANSWER, now, reroute=False
                )
        for q in self._queues.values():
            for call in self._store.enqueued_before(q.name, now - q.max_wait):
                if call.offered_to is None and callback_of(call.id) is None:
                    self._store.remove_call(call.id)
                    events.append(CallOverflowed(call, now, now - call.enqueued_at))
        for agent in self._store.agents_in_state(AgentState.WRAP_UP):
            if agent.wrap_up_until is not None and agent.wrap_up_until <= now:
                events.append(self._matcher.move(agent, AgentState.READY, "wrap-up done", now, **_FREE))
                events += self._matcher.serve_agent(agent.id, now)
        for name in sorted(self._queues):
            for head in self._store.heads(name):
                events += self._matcher.offer_call(head, now)
        return events

    # queries

    @in_transaction
    def position(self, call_id: str) -> int:
        self.call(call_id)
        return self._store.position(call_id)

    @in_transaction
    def expected_wait(self, call_id: str, now: float) -> float | None:
        """Re-estimate of the remaining wait for a queued caller from the live state."""
        call = self.call(call_id)
        q = self.queue(call.queue)
        required = requirements_at(call.skills, q.escalation, now - call.enqueued_at)
        return self._matcher.estimate(q, required, self._store.position(call_id))

    @in_transaction
    def queue_status(self, queue: str, now: float) -> QueueStatus:
        q = self.queue(queue)
        waiting = tuple(self._store.waiting(queue))
        longest = max((now - c.enqueued_at for c in waiting), default=0.0)
        pool = self._store.pool_counts(q.skills)
        counts = dict.fromkeys(AgentState, 0)
        counts[AgentState.READY] = pool.eligible
        for reason, state in _STATE_OF_REASON.items():
            counts[state] = pool.passed.get(reason, 0)
        return QueueStatus(queue, waiting, longest, counts)

    # internals

    def _ringing(self, agent_id: str) -> tuple[Offer, Agent]:
        agent = self.agent(agent_id)
        offer = self._store.offer(agent_id)
        if offer is None or agent.state is not AgentState.RINGING:
            raise NoOffer(agent_id, agent.state.value)
        return offer, agent

    def _unanswered(
        self, agent_id: str, result: OfferResult, reason: str, now: float, *, reroute: bool = True
    ) -> list[AcdEvent]:
        offer, agent = self._ringing(agent_id)
        call = self._release(offer)
        events: list[AcdEvent] = [OfferEnded(offer, result, now),
                                  self._matcher.move(agent, AgentState.PAUSED, reason, now, **_FREE)]
        if reroute and call is not None:
            events += self._matcher.offer_call(call, now)
        return events

    def _release(self, offer: Offer) -> WaitingCall | None:
        """End ``offer`` without an answer; the call keeps its place in the queue."""
        self._store.remove_offer(offer.agent_id)
        call = self._store.call(offer.call_id)
        if call is None:
            return None
        call = replace(call, offered_to=None)
        self._store.save_call(call)
        return call

    def _leave(self, agent_id: str, to: AgentState, reason: str, now: float) -> list[AcdEvent]:
        agent = self.agent(agent_id)
        if agent.state is AgentState.ON_CALL:
            raise InvalidTransition(agent_id, agent.state.value, to.value, "end the call first")
        offer = self._store.offer(agent_id)
        if offer is None:
            return [self._matcher.move(agent, to, reason, now, **_FREE)]
        call = self._release(offer)
        events: list[AcdEvent] = [OfferEnded(offer, OfferResult.WITHDRAWN, now),
                                  self._matcher.move(agent, to, reason, now, **_FREE)]
        return events + (self._matcher.offer_call(call, now) if call is not None else [])



_FREE: dict[str, Any] = {
    "current_call": None, "current_queue": None, "answered_at": None, "wrap_up_until": None,
}
