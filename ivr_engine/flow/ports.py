"""What the flow interpreter needs from the outside world, as small protocols.

The storage layer (``ivr_engine.storage``) implements these against SQLAlchemy; tests and the simulator
may pass their own. Every method is async or non-blocking, so a slow database never stalls a call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from ivr_engine.channel import Channel, Recording

__all__ = [
    "CallRecord",
    "CallStore",
    "Clock",
    "LookupResult",
    "LookupStatus",
    "Lookups",
    "NodeEvent",
    "NodeEventSink",
    "SurveyStore",
    "TransferOutcome",
    "TransferRequest",
    "Transferrer",
    "VoicemailStore",
]


class LookupStatus(StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    ERROR = "error"


@dataclass(frozen=True)
class LookupResult:
    """A named query's answer; ``values`` become flow variables on ``found``."""

    status: LookupStatus
    values: Mapping[str, str] = field(default_factory=dict)
    error: str = ""


class Lookups(Protocol):
    """Named, parameterised queries. Never raises for database trouble: returns status ``error``."""

    def names(self) -> frozenset[str]: ...

    async def run(self, name: str, params: Mapping[str, str]) -> LookupResult: ...


@dataclass(frozen=True)
class NodeEvent:
    """One node a call passed: the unit of the traversal log, screen-pop and node statistics.

    ``input`` is already masked for sensitive gathers (``****``). ``outcome`` is the exit taken
    (``next``, ``found``, ``invalid``, ``timeout``, ``hangup``, a menu digit's target, ...).
    """

    call_id: str
    seq: int
    flow: str
    node: str
    node_type: str
    entered: datetime
    left: datetime
    input: str | None
    outcome: str


@dataclass(frozen=True)
class NodeEntry:
    """A call has entered a node (its ``NodeEvent`` follows when it leaves): what a crash leaves."""

    call_id: str
    seq: int
    flow: str
    node: str
    node_type: str
    entered: datetime


class NodeEventSink(Protocol):
    """Write-behind log of node events: ``entered``/``record`` never block; ``flush`` waits for the
    backlog. ``entered`` says where a call is now (the node a crash would leave it in), ``record`` the
    node it left. ``flush(urgent=False)`` may wait for the log's next regular write instead of asking
    for one at once (an ended call's path: nobody is waiting for it, and the writes of calls ending
    together then go in one batch)."""

    def entered(self, entry: NodeEntry) -> None: ...

    def record(self, event: NodeEvent) -> None: ...

    async def flush(self, *, urgent: bool = True) -> None: ...


@dataclass(frozen=True)
class CallRecord:
    call_id: str
    caller: str
    dialled: str
    started: datetime


class CallStore(Protocol):
    async def call_started(self, call: CallRecord) -> None: ...

    async def call_ended(self, call_id: str, ended: datetime, disposition: str) -> None: ...


class SurveyStore(Protocol):
    async def save_answer(
        self, *, call_id: str, survey: str, question: str, score: int, agent_id: str | None
    ) -> None: ...


class VoicemailStore(Protocol):
    async def save_voicemail(
        self, *, call_id: str, caller: str, mailbox: str, recording: Recording
    ) -> None: ...


@dataclass(frozen=True)
class TransferRequest:
    """A caller handed to the ACD by a ``transfer`` node (or by pressing 0)."""

    call_id: str
    caller: str
    queue: str
    skills: Mapping[str, int]
    priority: int
    variables: Mapping[str, str]


class TransferOutcome(StrEnum):
    """How a transfer ended; the flow continues on the exit of the same name."""

    COMPLETED = "completed"  # bridged to an agent, agent hung up: caller may go on (e.g. survey)
    NO_AGENTS = "no_agents"  # nobody logged in / queue closed
    OVERFLOW = "overflow"  # max wait reached
    CALLBACK = "callback"  # caller asked for a callback; request stored
    FAILED = "failed"


class Transferrer(Protocol):
    async def transfer(self, channel: Channel, request: TransferRequest) -> TransferOutcome: ...

    def agent_of(self, call_id: str) -> str | None:
        """The agent who took ``call_id`` after a COMPLETED transfer (the survey is stored against them)."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware current time (the simulator can set it)."""
        ...
