"""The ACD's exception tree: every refusal the routing engine makes is an ``AcdError``."""

from __future__ import annotations

__all__ = [
    "AcdConfigError",
    "AcdError",
    "DuplicateCall",
    "InvalidTransition",
    "NoOffer",
    "OfferConflict",
    "StoreError",
    "UnknownAgent",
    "UnknownCall",
    "UnknownQueue",
    "UnknownStrategy",
]


class AcdError(Exception):
    """Base of every ACD error; the message is fit to show an operator as is."""


class InvalidTransition(AcdError):
    """An agent state change that the transition table does not allow."""

    def __init__(self, agent_id: str, from_state: str, to_state: str, detail: str = "") -> None:
        self.agent_id = agent_id
        self.from_state = from_state
        self.to_state = to_state
        suffix = f": {detail}" if detail else ""
        super().__init__(f"agent {agent_id}: cannot go from {from_state} to {to_state}{suffix}")


class UnknownAgent(AcdError):
    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        super().__init__(f"unknown agent {agent_id!r}")


class UnknownCall(AcdError):
    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        super().__init__(f"no waiting call {call_id!r}")


class UnknownQueue(AcdError):
    def __init__(self, queue: str) -> None:
        self.queue = queue
        super().__init__(f"unknown queue {queue!r}")


class DuplicateCall(AcdError):
    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        super().__init__(f"call {call_id!r} is already queued")


class NoOffer(AcdError):
    """Answer/reject for an agent that has no call ringing."""

    def __init__(self, agent_id: str, state: str) -> None:
        self.agent_id = agent_id
        super().__init__(f"agent {agent_id} has no call ringing (state {state})")


class StoreError(AcdError):
    """The ACD's state store failed: its database is unreachable, not migrated, or not a database URL."""


class OfferConflict(StoreError):
    """The store refused an offer: the agent already has one, or the call is already offered."""

    def __init__(self, agent_id: str, call_id: str) -> None:
        self.agent_id = agent_id
        self.call_id = call_id
        super().__init__(
            f"offer of call {call_id!r} to agent {agent_id} refused: the agent already has an offer "
            "or the call is already offered"
        )


class AcdConfigError(AcdError):
    """``acd.yaml`` is malformed; the message starts with ``file:line:`` where the line is known."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source = source
        self.line = line
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")


class UnknownStrategy(AcdConfigError):
    """A queue names a routing strategy that has none in ``acd.strategies.STRATEGIES``."""

    def __init__(self, name: str, known: list[str], queue: str | None = None, *,
                 source: str = "<queues>", line: int | None = None) -> None:
        self.name = name = str(name)
        self.queue = queue
        where = f" in queue {queue}" if queue is not None else ""
        super().__init__(source, line, f"unknown strategy {name!r}{where} (one of: {', '.join(known)})")
