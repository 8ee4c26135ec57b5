"""Rows of ``acd.sql_tables`` to and from the ACD's records, exactly: a record reads back equal.

Skills and a decision are stored as JSON text: skills with sorted keys, so equal skills give equal text
(the group key of waiting calls, and a cheap "skills unchanged" test when an agent is saved again).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from acd.model import (
    Agent,
    AgentState,
    Decision,
    Offer,
    PassedOver,
    PassReason,
    Skills,
    Strategy,
    WaitingCall,
)

__all__ = [
    "agent_from",
    "agent_values",
    "call_from",
    "call_values",
    "decision_from",
    "decision_text",
    "offer_from",
    "offer_values",
    "skills_from",
    "skills_text",
]

Row = Mapping[str, Any]


def skills_text(skills: Skills) -> str:
    return _skills_text(tuple(sorted(skills.items())))


@functools.lru_cache(maxsize=4096)
def _skills_text(items: tuple[tuple[str, int], ...]) -> str:
    """(A routing decision encodes the same few skill sets over and over: each is encoded once.)"""
    return json.dumps(dict(items), separators=(",", ":"))


def skills_from(text: str) -> dict[str, int]:
    return dict(_skills_from(text))  # a dict of its own: the caller may change it


@functools.lru_cache(maxsize=4096)
def _skills_from(text: str) -> tuple[tuple[str, int], ...]:
    loaded: dict[str, int] = json.loads(text)
    return tuple(loaded.items())


def agent_values(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "name": agent.name,
        "endpoint": agent.endpoint,
        "skills": skills_text(agent.skills),
        "state": agent.state.value,
        "state_since": agent.state_since,
        "pause_reason": agent.pause_reason,
        "calls_taken": agent.calls_taken,
        "last_call_end": agent.last_call_end,
        "current_call": agent.current_call,
        "current_queue": agent.current_queue,
        "answered_at": agent.answered_at,
        "wrap_up_until": agent.wrap_up_until,
    }


def agent_from(row: Row) -> Agent:
    return Agent(
        id=row["id"],
        name=row["name"],
        endpoint=row["endpoint"],
        skills=skills_from(row["skills"]),
        state=AgentState(row["state"]),
        state_since=row["state_since"],
        pause_reason=row["pause_reason"],
        calls_taken=row["calls_taken"],
        last_call_end=row["last_call_end"],
        current_call=row["current_call"],
        current_queue=row["current_queue"],
        answered_at=row["answered_at"],
        wrap_up_until=row["wrap_up_until"],
    )


def call_values(call: WaitingCall) -> dict[str, Any]:
    """Every column but ``node``, which the store stamps once on insert."""
    return {
        "call_id": call.id,
        "queue": call.queue,
        "caller": call.caller,
        "enqueued_at": call.enqueued_at,
        "seq": call.seq,
        "skills": skills_text(call.skills),
        "priority": call.priority,
        "vip": call.vip,
        "predicted_wait": call.predicted_wait,
        "offered_to": call.offered_to,
    }


def call_from(row: Row) -> WaitingCall:
    return WaitingCall(
        id=row["call_id"],
        caller=row["caller"],
        queue=row["queue"],
        enqueued_at=row["enqueued_at"],
        seq=row["seq"],
        skills=skills_from(row["skills"]),
        priority=row["priority"],
        vip=bool(row["vip"]),
        predicted_wait=row["predicted_wait"],
        offered_to=row["offered_to"],
    )


def decision_text(decision: Decision) -> str:
    return json.dumps({
        "chosen": decision.chosen,
        "strategy": decision.strategy.value,
        "why": decision.why,
        "required": skills_from(skills_text(decision.required)),
        "passed_over": [[p.agent_id, p.reason.value, p.detail] for p in decision.passed_over],
        "without_any_skill": decision.without_any_skill,
        "passed_over_counts": [[r.value, n] for r, n in decision.passed_over_counts.items()],
    }, separators=(",", ":"))


def decision_from(text: str) -> Decision:
    raw = json.loads(text)
    return Decision(
        chosen=raw["chosen"],
        strategy=Strategy(raw["strategy"]),
        why=raw["why"],
        required=raw["required"],
        passed_over=tuple(PassedOver(a, PassReason(r), d) for a, r, d in raw["passed_over"]),
        without_any_skill=raw["without_any_skill"],
        passed_over_counts={PassReason(r): n for r, n in raw["passed_over_counts"]},
    )


def offer_values(offer: Offer) -> dict[str, Any]:
    return {
        "agent_id": offer.agent_id,
        "call_id": offer.call_id,
        "queue": offer.queue,
        "at": offer.at,
        "expires_at": offer.expires_at,
        "decision": decision_text(offer.decision),
    }


def offer_from(row: Row) -> Offer:
    return Offer(
        call_id=row["call_id"],
        agent_id=row["agent_id"],
        queue=row["queue"],
        at=row["at"],
        expires_at=row["expires_at"],
        decision=decision_from(row["decision"]),
    )
