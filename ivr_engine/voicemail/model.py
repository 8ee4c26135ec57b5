"""A voicemail as the inbox shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Outcome", "PathBefore", "VoicemailItem", "VoicemailState"]


class VoicemailState(StrEnum):
    NEW = "new"
    HEARD = "heard"
    CLOSED = "closed"


class Outcome(StrEnum):
    """How a voicemail was closed."""

    HANDLED = "handled"
    CALLBACK = "callback"
    WORK_ORDER = "work_order"


@dataclass(frozen=True)
class PathBefore:
    """One IVR node the caller passed before leaving the message (input as logged: PINs masked)."""

    flow: str
    node: str
    input: str | None
    outcome: str


@dataclass(frozen=True)
class VoicemailItem:
    id: int
    call_id: str
    caller: str
    customer_name: str
    """The caller's name on record, or empty."""
    mailbox: str
    flow: str
    """The flow whose ``record`` node took the message."""
    created: datetime
    duration: float
    heard: bool
    file_path: str
    closed: datetime | None = None
    closed_by: str | None = None
    outcome: Outcome | None = None
    work_order: str | None = None
    path: tuple[PathBefore, ...] = ()
    """The IVR path before the message (only in ``inbox.detail``)."""

    @property
    def state(self) -> VoicemailState:
        if self.closed is not None:
            return VoicemailState.CLOSED
        return VoicemailState.HEARD if self.heard else VoicemailState.NEW

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "call_id": self.call_id, "caller": self.caller, "customer": self.customer_name,
            "mailbox": self.mailbox, "flow": self.flow, "created": self.created.isoformat(),
            "duration": self.duration, "heard": self.heard, "state": self.state.value,
            "file": self.file_path, "closed": self.closed.isoformat() if self.closed else None,
            "closed_by": self.closed_by, "outcome": self.outcome.value if self.outcome else None,
            "work_order": self.work_order,
            "path": [{"flow": p.flow, "node": p.node, "input": p.input, "outcome": p.outcome}
                     for p in self.path],
        }  # fmt: skip
