"""Taking one key or digits from the caller: the helpers the nodes that wait for keys share (menu,
gather, survey)."""

from __future__ import annotations

from collections.abc import Callable

from ivr_engine.channel import Digits
from ivr_engine.flow.model import Speech
from ivr_engine.flow.runtime import CallState

__all__ = ["ask_one_key", "failure", "retry_prompt"]


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
