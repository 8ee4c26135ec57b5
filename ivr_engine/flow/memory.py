"""Flow ports that keep what a call writes in memory and never reach a database.

``ivr simulate`` runs on these by default, so a simulated call leaves no trace in the live data (no
node events in the statistics, no survey answers, no voicemails); ``ivr sipp generate`` plans on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ivr_engine.channel import Recording
from ivr_engine.flow.ports import NodeEntry, NodeEvent

__all__ = ["KeptAnswer", "KeptVoicemail", "MemoryNodeLog", "MemorySurveys", "MemoryVoicemails"]


@dataclass
class MemoryNodeLog:
    """``NodeEventSink`` into a list; ``flush`` has nothing to wait for."""

    events: list[NodeEvent] = field(default_factory=list)

    def entered(self, entry: NodeEntry) -> None:
        return None  # the events say it all once the call is over

    def record(self, event: NodeEvent) -> None:
        self.events.append(event)

    async def flush(self, *, urgent: bool = True) -> None:
        return None


@dataclass(frozen=True)
class KeptAnswer:
    call_id: str
    survey: str
    question: str
    score: int
    agent_id: str | None


@dataclass
class MemorySurveys:
    """``SurveyStore`` into a list."""

    answers: list[KeptAnswer] = field(default_factory=list)

    async def save_answer(
        self, *, call_id: str, survey: str, question: str, score: int, agent_id: str | None
    ) -> None:
        self.answers.append(KeptAnswer(call_id, survey, question, score, agent_id))


@dataclass(frozen=True)
class KeptVoicemail:
    call_id: str
    caller: str
    mailbox: str
    recording: Recording


@dataclass
class MemoryVoicemails:
    """``VoicemailStore`` into a list."""

    saved: list[KeptVoicemail] = field(default_factory=list)

    async def save_voicemail(self, *, call_id: str, caller: str, mailbox: str, recording: Recording) -> None:
        self.saved.append(KeptVoicemail(call_id, caller, mailbox, recording))
