"""A demo ``CallHandler``: the smallest call the service can run (its tests use it)."""

from __future__ import annotations

from ivr_engine.calls import CallInfo
from ivr_engine.channel import Channel, DtmfKey, Prompt, Say, SayKind

__all__ = ["demo_handler"]


async def demo_handler(channel: Channel, call: CallInfo) -> None:
    """Until flows land: answer, greet, collect up to 20 keys ending in #, read them back, hang up."""
    await channel.answer()
    digits = await channel.collect(
        prompt=[Prompt("hello-world", "Hello world.")],
        max_digits=20,
        terminator=DtmfKey.POUND,
        first_timeout=10.0,
        inter_timeout=5.0,
    )
    if digits.keys:
        await channel.play([Prompt("you-entered", "You entered"), Say(SayKind.DIGITS, digits.text)])
    await channel.play([Prompt("goodbye", "Goodbye.")])
    await channel.hangup()
