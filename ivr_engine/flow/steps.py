"""What a node's ``run`` answers (``Step``), how a walk ends (``End``), and helpers shared by the nodes
that wait for keys (menu, gather, survey)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from ivr_engine.channel import Digits

if TYPE_CHECKING:
    from ivr_engine.flow.nodes.base import Speech
    from ivr_engine.flow.runtime import CallState

__all__ = ["MASK", "End", "Step", "failure", "retry_prompt"]

MASK = "****"


class End(StrEnum):
    RETURN = "return"
    HANGUP = "hangup"
    CALLER_GONE = "caller_gone"
    ERROR = "error"


@dataclass(frozen=True)
class Step:
    """A node's answer: the exit taken, where to go (None ends the flow), the logged input."""

    outcome: str
    next: str | None = None
    input: str | None = None
    end: End | None = None


async def retry_prompt(call: CallState, digits: Digits, invalid: Speech, no_input: Speech) -> None:
    """Before a re-prompt: the ``no_input`` message after silence, else the ``invalid`` one."""
    speech = no_input if not digits.keys else invalid
    if speech:
        await call.channel.play(call.media(speech))


def failure(digits: Digits) -> str:
    return "timeout" if not digits.keys else "invalid"


async def ask_one_key(
    call: CallState,
    speech: Speech,
    *,
    retries: int,
    key_timeout: float,
    accepted: Callable[[Digits], bool],
    invalid: Speech,
    no_input: Speech,
) -> tuple[Digits, bool]:
    """Play ``speech`` and take one key, re-prompting (``retry_prompt``) up to ``retries`` times until
    ``accepted``; the last keys and whether they were accepted (menus and survey questions)."""
    digits = Digits(())
    for attempt in range(retries + 1):
        if attempt:
            await retry_prompt(call, digits, invalid, no_input)
        digits = await call.channel.collect(
            prompt=call.media(speech),
            max_digits=1,
            terminator=None,
            first_timeout=key_timeout,
            inter_timeout=key_timeout,
        )
        if accepted(digits):
            return digits, True
    return digits, False
