"""What the engine tells its caller: typed events to act on (originate, bridge, play) and to store."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from acd.agent_state import StateChange
from acd.estimate import WaitAccuracy
from acd.model import Offer, WaitingCall

__all__ = [
    "AcdEvent",
    "CallAbandoned",
    "CallAnswered",
    "CallOverflowed",
    "CallQueued",
    "OfferEnded",
    "OfferMade",
    "OfferResult",
    "StateChange",
]


@dataclass(frozen=True)
class CallQueued:
    call: WaitingCall
    position: int


@dataclass(frozen=True)
class OfferMade:
    """Ring ``offer.agent_id``'s endpoint for ``offer.call_id`` until ``offer.expires_at``."""

    offer: Offer


class OfferResult(StrEnum):
    ANSWERED = "answered"
    REJECTED = "rejected"
    TIMED_OUT = "timed out"
    ABANDONED = "caller abandoned"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class OfferEnded:
    """The offer is over; unless answered, stop ringing the agent's endpoint."""

    offer: Offer
    result: OfferResult
    at: float


@dataclass(frozen=True)
class CallAnswered:
    """Bridge the caller and the agent; ``accuracy`` is the wait prediction's record."""

    call: WaitingCall
    agent_id: str
    at: float
    accuracy: WaitAccuracy


@dataclass(frozen=True)
class CallAbandoned:
    call: WaitingCall
    at: float
    waited: float


@dataclass(frozen=True)
class CallOverflowed:
    """Max wait reached: the caller leaves the queue (the flow's transfer node ends ``overflow``)."""

    call: WaitingCall
    at: float
    waited: float


AcdEvent = StateChange | CallQueued | OfferMade | OfferEnded | CallAnswered | CallAbandoned | CallOverflowed
