"""What the control API says about agents and queues: typed views and their JSON form.

The server builds views from the live ACD (``from_agent``/``from_status``, given the clock value);
the client parses the JSON back (``from_json``). Times are seconds (epoch clock, as the ACD runtime uses).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import acd
from acd import AgentState
from ivr_engine.control.errors import MalformedReply
from ivr_engine.json_values import as_float, as_int, as_mapping, as_mappings, as_opt_float, as_opt_str, as_str

__all__ = ["AgentView", "QueueView", "WaitingView"]

T = TypeVar("T")


@dataclass(frozen=True)
class AgentView:
    id: str
    name: str
    endpoint: str
    state: AgentState
    in_state: float | None
    """Seconds since the last state change; None when the agent never changed state since start-up."""
    pause_reason: str
    skills: Mapping[str, int]
    calls_taken: int
    current_call: str | None
    current_queue: str | None

    @classmethod
    def from_agent(cls, agent: acd.Agent, now: float) -> AgentView:
        return cls(
            id=agent.id,
            name=agent.name,
            endpoint=agent.endpoint,
            state=agent.state,
            in_state=max(0.0, now - agent.state_since) if agent.state_since > 0 else None,
            pause_reason=agent.pause_reason,
            skills=dict(agent.skills),
            calls_taken=agent.calls_taken,
            current_call=agent.current_call,
            current_queue=agent.current_queue,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "endpoint": self.endpoint,
            "state": self.state.value,
            "in_state": None if self.in_state is None else round(self.in_state, 3),
            "pause_reason": self.pause_reason,
            "skills": dict(self.skills),
            "calls_taken": self.calls_taken,
            "current_call": self.current_call,
            "current_queue": self.current_queue,
        }

    @classmethod
    def from_json(cls, data: object) -> AgentView:
        def parse(d: Mapping[str, Any]) -> AgentView:
            return cls(
                id=as_str(d["id"]),
                name=as_str(d["name"]),
                endpoint=as_str(d["endpoint"]),
                state=AgentState(as_str(d["state"])),
                in_state=as_opt_float(d["in_state"]),
                pause_reason=as_str(d["pause_reason"]),
                skills={as_str(k): as_int(v) for k, v in as_mapping(d["skills"]).items()},
                calls_taken=as_int(d["calls_taken"]),
                current_call=as_opt_str(d["current_call"]),
                current_queue=as_opt_str(d["current_queue"]),
            )

        return _parsed("agent", data, parse)


@dataclass(frozen=True)
class WaitingView:
    call_id: str
    caller: str
    position: int
    priority: int
    vip: bool
    waited: float
    offered_to: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "caller": self.caller,
            "position": self.position,
            "priority": self.priority,
            "vip": self.vip,
            "waited": round(self.waited, 3),
            "offered_to": self.offered_to,
        }


@dataclass(frozen=True)
class QueueView:
    name: str
    waiting: tuple[WaitingView, ...]
    longest_wait: float
    agents_by_state: Mapping[AgentState, int]
    """Every state, zero included, in the state machine's order."""

    @classmethod
    def from_status(cls, status: acd.QueueStatus, now: float) -> QueueView:
        waiting = tuple(
            WaitingView(
                call_id=call.id,
                caller=call.caller,
                position=position,
                priority=call.priority,
                vip=call.vip,
                waited=max(0.0, now - call.enqueued_at),
                offered_to=call.offered_to,
            )
            for position, call in enumerate(status.waiting, start=1)
        )
        longest = max((w.waited for w in waiting), default=0.0)
        by_state = {state: status.agents_by_state.get(state, 0) for state in AgentState}
        return cls(status.queue, waiting, longest, by_state)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "waiting": [w.to_json() for w in self.waiting],
            "longest_wait": round(self.longest_wait, 3),
            "agents_by_state": {state.value: n for state, n in self.agents_by_state.items()},
        }

    @classmethod
    def from_json(cls, data: object) -> QueueView:
        def parse(d: Mapping[str, Any]) -> QueueView:
            waiting = tuple(
                WaitingView(
                    call_id=as_str(w["call_id"]),
                    caller=as_str(w["caller"]),
                    position=as_int(w["position"]),
                    priority=as_int(w["priority"]),
                    vip=bool(w["vip"]),
                    waited=as_float(w["waited"]),
                    offered_to=as_opt_str(w["offered_to"]),
                )
                for w in as_mappings(d["waiting"])
            )
            states = as_mapping(d["agents_by_state"])
            return cls(
                name=as_str(d["name"]),
                waiting=waiting,
                longest_wait=as_float(d["longest_wait"]),
                agents_by_state={AgentState(as_str(k)): as_int(v) for k, v in states.items()},
            )

        return _parsed("queue", data, parse)


def _parsed(what: str, data: object, parse: Callable[[Mapping[str, Any]], T]) -> T:
    try:
        return parse(as_mapping(data))
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedReply(f"the service sent a malformed {what}: {exc}") from exc
