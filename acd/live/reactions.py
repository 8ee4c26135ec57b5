"""Acting on the ACD's events: every event an ``acd.Acd`` operation returns comes through ``apply``,
(on the loop, with the agents as they stand after the operation: ``acd.live.worker``), which publishes
it to subscribers, stores it through the fact writer, and acts on it (ring the agent,
stop ringing, overflow a waiting caller)."""

from __future__ import annotations

import acd
from acd.desk_ops import consulted_call
from acd.live.api import RuntimeEventKind
from acd.live.facts import FactWriter, QueueOutcome
from acd.live.hub import EventHub
from acd.live.inflight import Waiters
from acd.live.legs import AgentLegs
from acd.live.tasks import TaskSet
from acd.live.worker import Applied
from ivr_engine.flow.ports import TransferOutcome

__all__ = ["Reactions"]


class Reactions:
    def __init__(self, *, hub: EventHub, facts: FactWriter, waiters: Waiters,
                 legs: AgentLegs, tasks: TaskSet) -> None:
        self._hub = hub
        self._facts = facts
        self._waiters = waiters
        self._legs = legs
        self._tasks = tasks

    def apply(self, applied: Applied) -> None:
        for event in applied.events:
            self._apply_one(event, applied.agents)

    def _apply_one(self, event: acd.AcdEvent, agents: dict[str, acd.Agent]) -> None:
        emit = self._hub.emit
        if isinstance(event, acd.StateChange):
            detail = f"{event.from_state.value} -> {event.to_state.value}: {event.reason}"
            agent = agents[event.agent_id]
            emit(RuntimeEventKind.STATE_CHANGED, event.at, event.agent_id, agent.current_call, None,
                 agent.current_queue, detail)
            self._facts.state_changed(event)
        elif isinstance(event, acd.CallQueued):
            call = event.call
            emit(RuntimeEventKind.QUEUE_CHANGED, call.enqueued_at, None, call.id, call.caller, call.queue,
                 f"queued at position {event.position}")
            waiter = self._waiters.get(call.id)
            if waiter is not None and acd.callback_of(call.id) is None:  # callbacks: acd.records.dialing
                self._facts.enqueued(waiter.request, call.enqueued_at, call.predicted_wait)
        elif isinstance(event, acd.OfferMade):
            offer = event.offer
            emit(RuntimeEventKind.OFFERED, offer.at, offer.agent_id, offer.call_id,
                 self._waiters.caller_of(offer.call_id), offer.queue, offer.decision.why)
            consult = consulted_call(offer.call_id) is not None  # acd.live.consult rings its own leg
            # several nodes: the caller's node rings (AgentLegs.follow)
            if not consult and self._legs.should_ring(offer):
                self._tasks.spawn(self._legs.ring(offer, agents[offer.agent_id]), f"ring-{offer.agent_id}")
        elif isinstance(event, acd.OfferEnded):
            if event.result is not acd.OfferResult.ANSWERED:
                self._legs.stop_ringing(event.offer)
        elif isinstance(event, acd.CallAnswered):
            call = event.call
            predicted = event.accuracy.predicted
            guess = "-" if predicted is None else f"{predicted:.1f}s"
            emit(RuntimeEventKind.ANSWERED, event.at, event.agent_id, call.id, call.caller, call.queue,
                 f"waited {event.accuracy.actual:.1f}s, predicted {guess}")
            if acd.callback_of(call.id) is None:
                self._facts.answered(call.id, event.agent_id, event.at)
        elif isinstance(event, acd.CallAbandoned):
            waiter = self._waiters.get(event.call.id)
            callback = waiter is not None and waiter.callback
            outcome = QueueOutcome.CALLBACK if callback else QueueOutcome.ABANDONED
            emit(RuntimeEventKind.QUEUE_CHANGED, event.at, None, event.call.id, event.call.caller,
                 event.call.queue, outcome.value)
            if acd.callback_of(event.call.id) is None:
                self._facts.ended(event.call.id, outcome, event.at)
        elif isinstance(event, acd.CallOverflowed):
            emit(RuntimeEventKind.QUEUE_CHANGED, event.at, None, event.call.id, event.call.caller,
                 event.call.queue, f"overflow after {event.waited:.0f}s")
            self._facts.ended(event.call.id, QueueOutcome.OVERFLOW, event.at)
            waiter = self._waiters.get(event.call.id)
            if waiter is not None and not waiter.connected.done():
                waiter.connected.set_result(TransferOutcome.OVERFLOW)
