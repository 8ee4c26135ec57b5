"""The call contract between the Stasis service and whatever handles a call (flows, the ACD).

``CallInfo`` is one call as the service sees it when its StasisStart arrives; ``CallHandler`` is what the
service runs for it; ``ORIGINATED_MARKER`` tags the channels we originate ourselves (agent legs), so the
service hands their StasisStart to the ACD's hook instead of a handler. It sits below both the service and
the ACD, so neither has to import the other to agree on a call.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ivr_engine.channel import Channel

__all__ = ["ORIGINATED_MARKER", "CallHandler", "CallInfo", "Resynced"]

ORIGINATED_MARKER = "agent"
"""StasisStart args[0] of channels we originate ourselves (agent legs): routed to the originated hook."""


@dataclass(frozen=True)
class CallInfo:
    """One call as the service sees it when its StasisStart arrives."""

    call_id: str
    channel_id: str
    caller: str
    dialled: str
    args: tuple[str, ...]
    started: datetime


class CallHandler(Protocol):
    async def __call__(self, channel: Channel, call: CallInfo) -> None: ...


@dataclass(frozen=True)
class Resynced:
    """What the ACD says after the service listed Asterisk's channels (a (re)connect).

    ``looked_after``: channels it looks after without a call task (agent legs still ringing), not
    orphans. ``claimed``: orphans it knows from an earlier run of the service (waiting or bridged
    callers in its store); the service takes them back at once, without the grace it gives unknown
    channels for a StasisStart that may still be on the wire, so their hold music is back at once."""

    looked_after: Set[str] = frozenset()
    claimed: Set[str] = frozenset()
