"""The desk state of a bridged call (on hold, the consult under way), and, with several nodes, the desk
state of the calls other nodes bridge as their events told it (``acd.live.node_bus``)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from acd.live.api import RuntimeEvent, RuntimeEventKind

__all__ = ["DeskState", "RemoteDesks"]


@dataclass(frozen=True)
class DeskState:
    """What the desk shows of a bridged call besides the agent's state: on hold, the consult under way."""

    held: bool = False
    consult_target: str | None = None
    consult_state: str | None = None  # "ringing" or "talking" (acd.live.inflight.Consult.state)


class RemoteDesks:
    """The desk state of calls other nodes bridge, by call id (the newest ``keep`` calls)."""

    def __init__(self, keep: int = 5000) -> None:
        self._keep = keep
        self._desks: OrderedDict[str, DeskState] = OrderedDict()

    def get(self, call_id: str) -> DeskState | None:
        return self._desks.get(call_id)

    def heard(self, event: RuntimeEvent, desk: DeskState | None) -> None:
        """Another node's event: keep the call's desk state; forget it once the call ended."""
        call = event.call_id
        if call is None:
            return
        if event.kind is RuntimeEventKind.ENDED:
            self._desks.pop(call, None)
        elif desk is not None:
            self.keep(call, desk)

    def keep(self, call_id: str, desk: DeskState) -> None:
        """``call_id``'s desk state as another node said it."""
        self._desks[call_id] = desk
        self._desks.move_to_end(call_id)
        while len(self._desks) > self._keep:
            self._desks.popitem(last=False)
