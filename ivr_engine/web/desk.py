"""What the agent desktop reads and writes besides the ACD: call ownership, survey results, wrap-ups.

An agent may see or wrap up a call only if they answered it: the call is their latest screen-pop, or the
ACD's ``queue_calls`` record names them as the agent who answered it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.records.rows import QueueCallRow
from ivr_engine.screenpop import ScreenPopService
from ivr_engine.storage.database import Database
from ivr_engine.storage.models import SurveyResponse

__all__ = [
    "DISPOSITIONS",
    "MAX_NOTE_LENGTH",
    "PAUSE_REASONS",
    "SurveyAnswer",
    "SurveyResult",
    "answered_by",
    "survey_result",
]

DISPOSITIONS = ("resolved", "follow_up", "complaint", "sale", "wrong_number", "other")
"""Wrap-up codes the form offers; anything else is refused."""
PAUSE_REASONS = ("break", "lunch", "meeting", "training", "after_call_work")
"""Suggested in the page; any short printable reason is accepted, as on the CLI."""
MAX_NOTE_LENGTH = 2000


@dataclass(frozen=True)
class SurveyAnswer:
    question: str
    score: int


@dataclass(frozen=True)
class SurveyResult:
    call_id: str
    survey: str
    answers: tuple[SurveyAnswer, ...]

    @property
    def average(self) -> float:
        return sum(a.score for a in self.answers) / len(self.answers)

    def to_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "survey": self.survey,
            "answers": [{"question": a.question, "score": a.score} for a in self.answers],
            "average": round(self.average, 2),
        }


async def answered_by(database: Database, screenpops: ScreenPopService, agent_id: str, call_id: str) -> bool:
    """True when ``agent_id`` answered ``call_id`` (see the module docstring)."""
    latest = screenpops.latest(agent_id)
    if latest is not None and latest.call_id == call_id:
        return True

    def work(session: Session) -> bool:
        found = session.scalars(
            select(QueueCallRow.id)
            .where(QueueCallRow.call_id == call_id, QueueCallRow.agent_id == agent_id)
            .limit(1)
        ).first()
        return found is not None

    return await database.run(work)


async def survey_result(database: Database, call_id: str) -> SurveyResult | None:
    """The caller's survey answers for ``call_id``, or None while they have not answered."""

    def work(session: Session) -> SurveyResult | None:
        rows = session.scalars(
            select(SurveyResponse).where(SurveyResponse.call_id == call_id).order_by(SurveyResponse.id)
        ).all()
        if not rows:
            return None
        answers = tuple(SurveyAnswer(r.question, r.score) for r in rows)
        return SurveyResult(call_id, rows[0].survey, answers)

    return await database.run(work)
