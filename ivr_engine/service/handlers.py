"""What the service runs for a call: ``CallInfo``, the ``CallHandler`` protocol and the demo handler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ivr_engine.channel import Channel, DtmfKey, Prompt, Say, SayKind

__all__ = ["ORIGINATED_MARKER", "CallHandler", "CallInfo", "demo_handler"]

ORIGINATED_MARKER = "agent"
"""StasisStart args[0] of channels we originate ourselves (agent legs): routed to the originated hook."""


@dataclass(frozen=True)
class CallInfo:
    """One call as the service sees it when its StasisStart arrives."""

    call_id: str
    channel_id: str
    caller: str
    dialled: str
    args: tuple[str, ...]
    started: datetime


class CallHandler(Protocol):
    async def __call__(self, channel: Channel, call: CallInfo) -> None: ...


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
