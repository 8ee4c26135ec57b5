"""Who answered a call, kept after the call for the post-call survey (``AcdControl.agent_of``)."""

from __future__ import annotations

from collections import OrderedDict

from acd.live.inflight import EpochClock

__all__ = ["AnsweredBy"]

_REMEMBERED_ANSWERS = 10_000
_REMEMBER_SECONDS = 3600.0
"""Who answered a call is kept for the post-call survey: the last 10,000 calls, none older than an hour."""


class AnsweredBy:
    def __init__(self, clock: EpochClock) -> None:
        self._clock = clock
        self._by_call: OrderedDict[str, tuple[str, float]] = OrderedDict()  # call -> (agent, when)

    def __len__(self) -> int:
        return len(self._by_call)

    def remember(self, call_id: str, agent_id: str) -> None:
        self._by_call[call_id] = (agent_id, self._clock())
        self._by_call.move_to_end(call_id)
        self._forget_old()

    def agent_of(self, call_id: str) -> str | None:
        """The agent who answered ``call_id``, while remembered (see ``_REMEMBER_SECONDS``)."""
        self._forget_old()
        answered = self._by_call.get(call_id)
        return answered[0] if answered is not None else None

    def _forget_old(self) -> None:
        """Oldest first (insertion order is answer order): beyond the count, or older than the limit."""
        oldest = self._clock() - _REMEMBER_SECONDS
        while self._by_call and (
            len(self._by_call) > _REMEMBERED_ANSWERS or next(iter(self._by_call.values()))[1] < oldest
        ):
            self._by_call.popitem(last=False)
