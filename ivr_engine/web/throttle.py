"""Sign-in throttling: failed sign-ins per user name and per client address in a sliding window.

Before a password is checked, :meth:`LoginThrottle.admit` counts the attempt against both the user name
(as typed, known or not) and the address; when either already has its limit of attempts in the last
``window_s`` seconds, the attempt is refused with the seconds until the oldest one leaves the window. An
admitted attempt counts as a failure until :meth:`LoginThrottle.forgive` says it succeeded (or
:meth:`LoginThrottle.withdraw` that it could not be decided), so a burst of simultaneous guesses is
throttled as surely as a sequence. A success clears the user's failures.

The clock is injected (monotonic seconds), so tests move time instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LoginLimits", "LoginThrottle", "Throttled"]


@dataclass(frozen=True)
class LoginLimits:
    per_user: int = 5
    per_address: int = 20
    window_s: float = 60.0

    def __post_init__(self) -> None:
        if self.per_user < 1 or self.per_address < 1 or self.window_s <= 0:
            raise ValueError("login limits must be positive")


@dataclass(frozen=True)
class Throttled:
    """An attempt refused: which limit (``"user"`` or ``"address"``) and whole seconds to wait (>= 1)."""

    by: str
    retry_after_s: int


class LoginThrottle:
    """Failed sign-in counts in memory (they reset when the service restarts)."""

    MAX_KEYS = 10_000
    """Past this many tracked names and addresses, those with no attempt left in the window are dropped."""

    def __init__(self, limits: LoginLimits | None = None, *, clock: Callable[[], float] = time.monotonic):
        self.limits = limits or LoginLimits()
        self._clock = clock
        self._users: dict[str, deque[float]] = {}
        self._addresses: dict[str, deque[float]] = {}

    def admit(self, user: str, address: str) -> Throttled | None:
        """None when the attempt may go ahead (it now counts as a failure), else why and how long to wait."""
        now = self._clock()
        tried_user = self._recent(self._users, user, now)
        tried_address = self._recent(self._addresses, address, now)
        waits: list[tuple[float, str]] = []
        if len(tried_user) >= self.limits.per_user:
            waits.append((tried_user[-self.limits.per_user] + self.limits.window_s - now, "user"))
        if len(tried_address) >= self.limits.per_address:
            waits.append((tried_address[-self.limits.per_address] + self.limits.window_s - now, "address"))
        if waits:
            wait, by = max(waits)
            return Throttled(by, max(1, math.ceil(wait)))
        tried_user.append(now)
        tried_address.append(now)
        self._users.setdefault(user, tried_user)
        self._addresses.setdefault(address, tried_address)
        self._bound(now)
        return None

    def forgive(self, user: str, address: str) -> None:
        """The admitted attempt succeeded: clear the user's failures and take it off the address's."""
        self._users.pop(user, None)
        tried = self._addresses.get(address)
        if tried:
            tried.pop()

    def withdraw(self, user: str, address: str) -> None:
        """The admitted attempt could not be decided (users file unreadable): it counts for neither."""
        for table, key in ((self._users, user), (self._addresses, address)):
            tried = table.get(key)
            if tried:
                tried.pop()

    def _recent(self, table: dict[str, deque[float]], key: str, now: float) -> deque[float]:
        tried = table.get(key, deque())
        while tried and tried[0] <= now - self.limits.window_s:
            tried.popleft()
        return tried

    def _bound(self, now: float) -> None:
        for table in (self._users, self._addresses):
            if len(table) > self.MAX_KEYS:
                for key in [k for k, tried in table.items() if not self._recent(table, k, now)]:
                    del table[key]
