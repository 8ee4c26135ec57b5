"""What a node's ``run`` answers (``Step``), how a walk ends (``End``), and the mask logged for a
sensitive input."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["MASK", "End", "Step"]

MASK = "****"


class End(StrEnum):
    RETURN = "return"
    HANGUP = "hangup"
    CALLER_GONE = "caller_gone"
    ERROR = "error"


@dataclass(frozen=True)
class Step:
    """A node's answer: the exit taken, where to go (None ends the flow), the logged input."""

    outcome: str
    next: str | None = None
    input: str | None = None
    end: End | None = None
