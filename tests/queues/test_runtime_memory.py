"""``AcdRuntime.agent_of`` keeps who answered each call for the survey, but not forever."""

from __future__ import annotations

from typing import Any

import acd
from acd.live import AcdRuntime
from acd.live import runtime as runtime_module


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _runtime(clock: _Clock) -> AcdRuntime:
    client: Any = object()  # never used: no call is placed
    return AcdRuntime(acd.Acd([acd.Queue("general", {"general": 1})]), client, clock=clock)


def test_answer_is_kept_for_the_survey_then_forgotten_after_the_limit() -> None:
    clock = _Clock()
    runtime = _runtime(clock)
    runtime._remember("c1", "1003")
    clock.now += runtime_module._REMEMBER_SECONDS - 1
    assert runtime.agent_of("c1") == "1003"
    clock.now += 2
    assert runtime.agent_of("c1") is None
    assert len(runtime._answered_by) == 0


def test_only_the_most_recent_answers_are_kept(monkeypatch: Any) -> None:
    monkeypatch.setattr(runtime_module, "_REMEMBERED_ANSWERS", 3)
    clock = _Clock()
    runtime = _runtime(clock)
    for n in range(5):
        runtime._remember(f"c{n}", f"10{n}")
    assert [runtime.agent_of(f"c{n}") for n in range(5)] == [None, None, "102", "103", "104"]
