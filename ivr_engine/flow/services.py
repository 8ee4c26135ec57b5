"""What a running flow is given: the ports bundled as ``FlowServices``, plus the stand-in defaults.

``BusyTransferrer`` answers every transfer with ``no_agents`` (the flows then offer voicemail) until
the ACD provides a real ``Transferrer``; ``SystemClock`` is the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from ivr_engine.channel import Channel
from ivr_engine.flow.model import Flow
from ivr_engine.flow.ports import (
    Clock,
    Lookups,
    NodeEventSink,
    SurveyStore,
    TransferOutcome,
    TransferRequest,
    Transferrer,
    VoicemailStore,
)

__all__ = ["BusyTransferrer", "FlowRegistry", "FlowServices", "PromptTexts", "SystemClock"]


class PromptTexts(Protocol):
    """The part of the prompt catalogue the interpreter needs (``ivr_engine.prompts.catalogue``)."""

    def has(self, prompt_id: str, lang: str) -> bool: ...

    def text(self, prompt_id: str, lang: str) -> str: ...


class FlowRegistry(Protocol):
    """Flows by name, for ``call`` nodes (``ivr_engine.flow.library.FlowLibrary``)."""

    def get(self, name: str) -> Flow | None: ...


class BusyTransferrer:
    """Stand-in ACD: every queue reports that no agent is available."""

    async def transfer(self, channel: Channel, request: TransferRequest) -> TransferOutcome:
        return TransferOutcome.NO_AGENTS

    def agent_of(self, call_id: str) -> str | None:
        return None


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class FlowServices:
    """The outside world as one running flow sees it."""

    lookups: Lookups
    node_log: NodeEventSink
    surveys: SurveyStore
    voicemails: VoicemailStore
    catalogue: PromptTexts
    flows: FlowRegistry
    transferrer: Transferrer = field(default_factory=BusyTransferrer)
    clock: Clock = field(default_factory=SystemClock)
    language: str = "en"  # what a call speaks until a flow or a `set` of `language` says otherwise
    recorded_queues: frozenset[str] = frozenset()
    """Queues whose calls are recorded (``record: true`` in acd.yaml): a ``transfer`` to one plays the
    ``recording_notice`` prompt first."""
