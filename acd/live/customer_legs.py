"""Customer legs: dialling a customer back through the outbound trunk, and how that ends before they talk.

``dial`` originates ``numbers.dial_string(number)`` into our app with the args ``["agent", "customer",
call_id]`` (``CUSTOMER_MARKER``), so the service hands the leg's StasisStart, i.e. the customer's answer,
to the runtime's originated hook, which passes it to ``answered``. A leg destroyed before it answered
(the event tap: ``ended``) is busy (cause 17) or not answered; one still ringing after ``ring_seconds`` is
hung up as not answered. ``answered`` keeps the service's call task for the leg until ``release``: the
bridge, not the hook, decides when the customer's call ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from acd.retry_policy import AttemptResult
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError, AriNotFound
from ivr_engine.ari.events import ChannelDestroyed, ChannelHangupRequest
from ivr_engine.calls import ORIGINATED_MARKER, CallInfo
from ivr_engine.channel import Channel
from ivr_engine.logs import fields
from ivr_engine.numbers import NotDialable, dial_string

__all__ = ["BUSY_CAUSES", "CUSTOMER_MARKER", "CustomerLegs"]

log = logging.getLogger(__name__)

CUSTOMER_MARKER = "customer"
BUSY_CAUSES = frozenset({17})
"""Q.850 user busy."""
_RING_MARGIN_S = 3.0
"""Asterisk's originate timeout is ``ring_seconds``; we wait this much longer before hanging up ourselves."""


@dataclass
class _Pending:
    answered: asyncio.Future[Channel | AttemptResult]
    released: asyncio.Event = field(default_factory=asyncio.Event)


class CustomerLegs:
    def __init__(self, client: AriClient, *, caller_id: str, ring_seconds: int) -> None:
        self._client = client
        self._caller_id = caller_id
        self._ring_seconds = ring_seconds
        self._legs: dict[str, _Pending] = {}

    def owns(self, channel_id: str) -> bool:
        return channel_id in self._legs

    async def dial(self, channel_id: str, number: str, call_id: str) -> Channel | AttemptResult:
        """Ring ``number``; its answered channel, or why there is none. A cancelled dial hangs up."""
        try:
            endpoint = dial_string(number)
        except NotDialable as exc:
            log.warning(fields("acd.callback.not_dialable", call=call_id, error=str(exc)))
            return AttemptResult.NOT_DIALABLE
        pending = self._legs[channel_id] = _Pending(asyncio.get_running_loop().create_future())
        try:
            await self._client.originate(endpoint, channel_id=channel_id, caller_id=self._caller_id,
                                         app_args=[ORIGINATED_MARKER, CUSTOMER_MARKER, call_id],
                                         ring_seconds=self._ring_seconds)
            async with asyncio.timeout(self._ring_seconds + _RING_MARGIN_S):
                return await asyncio.shield(pending.answered)
        except AriError as exc:
            log.warning(fields("acd.callback.dial_failed", call=call_id, error=str(exc)))
            self._legs.pop(channel_id, None)
            return AttemptResult.FAILED
        except TimeoutError:
            await self.release(channel_id)
            return AttemptResult.NO_ANSWER
        except asyncio.CancelledError:
            await self.release(channel_id)
            raise

    async def answered(self, channel: Channel, call: CallInfo) -> None:
        """The customer answered (the originated hook): hand the channel to ``dial``, keep the leg's call
        task until ``release``."""
        pending = self._legs.get(channel.id)
        if pending is None:
            return  # the service hangs the leg up
        if pending.answered.done():  # given up on meanwhile
            return
        pending.answered.set_result(channel)
        await pending.released.wait()

    def ended(self, event: ChannelDestroyed | ChannelHangupRequest) -> None:
        """A customer leg gone before answering: busy or no answer."""
        pending = self._legs.get(event.channel.id)
        if pending is None or pending.answered.done() or not isinstance(event, ChannelDestroyed):
            return  # a hangup request has no reliable cause yet: the destroyed event follows
        busy = event.cause in BUSY_CAUSES
        pending.answered.set_result(AttemptResult.BUSY if busy else AttemptResult.NO_ANSWER)

    async def release(self, channel_id: str) -> None:
        """The customer's part is over: hang the leg up (if still there) and let its hook return."""
        pending = self._legs.pop(channel_id, None)
        if pending is not None:
            if not pending.answered.done():
                pending.answered.set_result(AttemptResult.NO_ANSWER)
            pending.released.set()
        with contextlib.suppress(AriNotFound):
            try:
                await self._client.hangup(channel_id)
            except AriError as exc:
                log.warning(fields("acd.callback.hangup_failed", channel=channel_id, error=str(exc)))
