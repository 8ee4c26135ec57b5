"""What the live ACD offers the rest of the service: operator control and a stream of runtime events.

The control HTTP API, the CLI and the screen-pop code against ``AcdControl``; ``AcdRuntime``
(acd.live.runtime) implements it. Agent commands raise ``acd.AcdError`` subclasses
(``InvalidTransition``, ``UnknownAgent``) whose messages are fit to show an operator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import acd

__all__ = ["AcdControl", "RuntimeEvent", "RuntimeEventKind"]


class RuntimeEventKind(StrEnum):
    OFFERED = "offered"  # an agent's phone is ringing for a call
    ANSWERED = "answered"  # the agent picked up; caller and agent are bridged (screen-pop time)
    ENDED = "ended"  # a bridged call is over
    STATE_CHANGED = "state_changed"  # an agent changed state (detail: "from -> to: reason")
    QUEUE_CHANGED = "queue_changed"  # a call joined or left a queue (detail: why)


@dataclass(frozen=True)
class RuntimeEvent:
    """One thing that happened in the live ACD; ``at`` is timezone-aware (UTC)."""

    kind: RuntimeEventKind
    at: datetime
    agent_id: str | None
    call_id: str | None
    caller: str | None
    queue: str | None
    detail: str = ""
    node: str | None = None
    """Several nodes: the other node this happened on (``acd.live.node_bus``); None: this node."""


class AcdControl(Protocol):
    """Operator view and control of the running ACD."""

    def agents(self) -> list[acd.Agent]: ...

    def queue_statuses(self) -> list[acd.QueueStatus]: ...

    def waiting_calls(self) -> list[acd.WaitingCall]:
        """Every waiting call in service order per queue; wait time is ``now - enqueued_at`` where
        ``enqueued_at`` is epoch seconds (``time.time()``)."""
        ...

    async def login(self, agent_id: str) -> None: ...

    async def logout(self, agent_id: str) -> None: ...

    async def pause(self, agent_id: str, reason: str) -> None: ...

    async def ready(self, agent_id: str) -> None: ...

    def subscribe(self) -> AsyncIterator[RuntimeEvent]:
        """Every event from now on; leaving the ``async for`` (or ``aclose()``) unsubscribes."""
        ...
