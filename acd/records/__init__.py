"""The ACD's records in the service's database: the fact rows (``rows``) and their writer
(``AcdRecorder``), which the live runtime feeds through ``acd.live.facts.AcdFactSink``."""

from acd.records.recorder import AcdRecorder, NamedAgent
from acd.records.rows import (
    AgentRow,
    AgentStateChangeRow,
    CallbackRow,
    CallbackStatus,
    QueueCallRow,
    QueueOutcome,
    WrapUpRow,
)

__all__ = [
    "AcdRecorder",
    "AgentRow",
    "AgentStateChangeRow",
    "CallbackRow",
    "CallbackStatus",
    "NamedAgent",
    "QueueCallRow",
    "QueueOutcome",
    "WrapUpRow",
]
