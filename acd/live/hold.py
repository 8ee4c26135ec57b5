"""What a waiting caller hears: every announcement interval their position, expected wait and the
callback offer, otherwise a short reassurance; after either, a stretch of Asterisk's music on hold; the
confirmation when they press the callback key.

The reassurance and callback prompts are catalogue prompts (``sounds/prompts.yaml``, "Queue"): built
audio when ``ivr prompts build`` has run, otherwise the text below spoken by runtime TTS, so the ids and
texts here must match the catalogue (tests/queues checks). Position and wait use Asterisk's core
``queue-*`` sounds and numbers. The music is a musiconhold.conf class (dialplans/musiconhold.conf.j2),
started and stopped over ARI by the runtime.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ivr_engine.channel import DtmfKey, Media, Prompt, Say, SayKind

__all__ = [
    "QUEUE_CALLBACK_CONFIRMED",
    "QUEUE_CALLBACK_OFFER",
    "QUEUE_HOLD",
    "HoldOptions",
    "announcement",
    "hold_cycle",
]

QUEUE_HOLD = Prompt(
    "queue_hold", "Thank you for holding. The next available member of our team will be with you shortly."
)
QUEUE_CALLBACK_OFFER = Prompt(
    "queue_callback_offer", "To keep your place in line and be called back, press 1."
)
QUEUE_CALLBACK_CONFIRMED = Prompt("queue_callback_confirmed", "Thank you. You keep your place in line.")


@dataclass(frozen=True)
class HoldOptions:
    """``callback_offer`` follows each announcement and tells the caller about ``callback_key``;
    ``hold`` (the reassurance) plays instead when no announcement is due; after either, the caller hears
    ``music_seconds`` of the musiconhold.conf class ``music_class``; ``callback_confirmed`` plays once
    the key is pressed."""

    hold: tuple[Media, ...] = (QUEUE_HOLD,)
    music_class: str = "default"
    music_seconds: float = 8.0
    callback_offer: tuple[Media, ...] = (QUEUE_CALLBACK_OFFER,)
    callback_confirmed: tuple[Media, ...] = (QUEUE_CALLBACK_CONFIRMED,)
    callback_key: DtmfKey = DtmfKey.ONE


def announcement(position: int, expected_wait: float | None) -> list[Media]:
    """ "You are currently caller number N. The estimated hold time is currently M minutes." """
    media: list[Media] = [Prompt("queue-thereare"), Say(SayKind.NUMBER, str(position))]
    if expected_wait is not None:
        minutes = max(1, math.ceil(expected_wait / 60))
        unit = "queue-minute" if minutes == 1 else "queue-minutes"
        media += [Prompt("queue-holdtime"), Say(SayKind.NUMBER, str(minutes)), Prompt(unit)]
    return media


def hold_cycle(options: HoldOptions, announced: Sequence[Media] = ()) -> list[Media]:
    """What plays before a turn's music: with an announcement due (``announced`` non-empty), the
    announcement and the callback offer; otherwise the reassurance."""
    if announced:
        return [*announced, *options.callback_offer]
    return list(options.hold)
