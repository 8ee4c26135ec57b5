"""The callback retry policy (``acd.retry_policy``): attempts, spacing, giving up."""

from __future__ import annotations

import pytest

from acd.retry_policy import AttemptResult, NextStep, RetryPolicy

NOW = 1_000.0


def test_an_answered_attempt_closes_the_callback() -> None:
    assert RetryPolicy(3, 60).after(AttemptResult.CONNECTED, 1, NOW) == NextStep("done", 2, None)


@pytest.mark.parametrize("result", [AttemptResult.NO_ANSWER, AttemptResult.BUSY, AttemptResult.FAILED])
def test_unanswered_attempts_are_spaced_then_given_up(result: AttemptResult) -> None:
    policy = RetryPolicy(attempts=3, spacing_s=300)
    assert policy.after(result, 0, NOW) == NextStep("pending", 1, NOW + 300)
    assert policy.after(result, 1, NOW) == NextStep("pending", 2, NOW + 300)
    assert policy.after(result, 2, NOW) == NextStep("failed", 3, None)


def test_one_attempt_means_no_retry() -> None:
    assert RetryPolicy(attempts=1).after(AttemptResult.NO_ANSWER, 0, NOW) == NextStep("failed", 1, None)


def test_the_agent_side_failing_does_not_count_against_the_customer() -> None:
    step = RetryPolicy(attempts=2, spacing_s=300).after(AttemptResult.AGENT_GONE, 1, NOW)
    assert step == NextStep("pending", 1, NOW)  # back in line at once, same count


@pytest.mark.parametrize("result", [AttemptResult.NOT_DIALABLE, AttemptResult.NO_QUEUE])
def test_a_number_that_cannot_be_dialled_or_a_queue_that_is_gone_is_given_up_at_once(
    result: AttemptResult,
) -> None:
    assert RetryPolicy(5).after(result, 0, NOW) == NextStep("failed", 0, None)


@pytest.mark.parametrize(("attempts", "spacing"), [(0, 60.0), (3, -1.0)])
def test_a_policy_that_makes_no_sense_is_refused(attempts: int, spacing: float) -> None:
    with pytest.raises(ValueError, match=r"attempt|spacing"):
        RetryPolicy(attempts, spacing)


def test_only_attempts_that_reached_the_dialling_count_as_dialled() -> None:
    not_dialled = {AttemptResult.AGENT_GONE, AttemptResult.NOT_DIALABLE, AttemptResult.NO_QUEUE}
    assert {r for r in AttemptResult if not r.dialled} == not_dialled
