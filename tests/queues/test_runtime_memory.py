"""``AnsweredBy`` (behind ``AcdRuntime.agent_of``) keeps who answered each call for the survey, but not
forever; tests/queues/test_runtime_calls.py checks the runtime answers from it after a real answer."""

from __future__ import annotations

from typing import Any

from acd.live import answered as answered_module
from acd.live.answered import AnsweredBy


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_answer_is_kept_for_the_survey_then_forgotten_after_the_limit() -> None:
    clock = _Clock()
    answered = AnsweredBy(clock)
    answered.remember("c1", "1003")
    clock.now += answered_module._REMEMBER_SECONDS - 1
    assert answered.agent_of("c1") == "1003"
    clock.now += 2
    assert answered.agent_of("c1") is None
    assert len(answered) == 0


def test_only_the_most_recent_answers_are_kept(monkeypatch: Any) -> None:
    monkeypatch.setattr(answered_module, "_REMEMBERED_ANSWERS", 3)
    answered = AnsweredBy(_Clock())
    for n in range(5):
        answered.remember(f"c{n}", f"10{n}")
    assert [answered.agent_of(f"c{n}") for n in range(5)] == [None, None, "102", "103", "104"]

