"""Sign-in under attack: failures throttled per user and per address (sliding window, injected clock,
429 with Retry-After), and the password check (scrypt) kept off the event loop and bounded in number."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from ivr_engine.web.context import MAX_PASSWORD_CHECKS
from ivr_engine.web.throttle import LoginLimits, LoginThrottle, Throttled
from ivr_engine.web.users import WebUser

from .conftest import PASSWORDS, Desk, ManualClock

# -- the throttle ---------------------------------------------------------------------------------


def test_five_failures_per_user_in_a_sliding_minute() -> None:
    clock = ManualClock(0.0)
    throttle = LoginThrottle(LoginLimits(per_user=5, per_address=100, window_s=60), clock=clock)
    for at in (0, 10, 20, 30, 40):
        clock.now = at
        assert throttle.admit("ann", "10.0.0.1") is None
    clock.now = 50
    assert throttle.admit("ann", "10.0.0.2") == Throttled("user", 10)  # the attempt at 0 leaves at 60
    assert throttle.admit("raj", "10.0.0.1") is None  # another user is not held up
    clock.now = 59.5
    assert throttle.admit("ann", "10.0.0.1") == Throttled("user", 1)
    clock.now = 60
    assert throttle.admit("ann", "10.0.0.1") is None  # one slot free: the window slid past 0
    assert throttle.admit("ann", "10.0.0.1") == Throttled("user", 10)


def test_twenty_failures_per_address_whatever_the_names() -> None:
    clock = ManualClock(0.0)
    throttle = LoginThrottle(clock=clock)
    for n in range(20):
        assert throttle.admit(f"user{n}", "10.0.0.9") is None
    assert throttle.admit("fresh", "10.0.0.9") == Throttled("address", 60)
    assert throttle.admit("fresh", "10.0.0.8") is None
    clock.advance(60)
    assert throttle.admit("fresh", "10.0.0.9") is None


def test_a_success_clears_the_users_failures_and_a_withdrawn_attempt_counts_for_nobody() -> None:
    throttle = LoginThrottle(LoginLimits(per_user=2, per_address=3), clock=ManualClock())
    assert throttle.admit("ann", "a") is None
    assert throttle.admit("ann", "a") is None
    assert throttle.admit("ann", "a") is not None
    throttle.forgive("ann", "a")  # the second attempt succeeded: the address keeps only the first
    assert throttle.admit("ann", "a") is None  # the user's count starts again
    assert throttle.admit("raj", "a") is None
    assert throttle.admit("raj", "a") == Throttled("address", 60)  # three on the address
    throttle.withdraw("raj", "a")
    assert throttle.admit("raj", "a") is None
    assert throttle.admit("raj", "b") is None  # raj's withdrawn attempt did not count either
    assert throttle.admit("raj", "c") == Throttled("user", 60)


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        LoginLimits(per_user=0)


# -- over HTTP ------------------------------------------------------------------------------------


async def _sign_in(desk: Desk, name: str, password: str) -> tuple[int, str, str | None]:
    response = await desk.post("/login", {"username": name, "password": password})
    return response.status, (await response.json()).get("error", ""), response.headers.get("Retry-After")


async def test_the_sixth_wrong_password_in_a_minute_is_429_until_the_window_slides(desk: Desk) -> None:
    for _ in range(5):
        assert (await _sign_in(desk, "ann", "wrong-password"))[0] == 401
        desk.throttle_clock.advance(5)
    # failures at 0, 5, 10, 15, 20 s; now 25 s: the one at 0 leaves the window at 60 s
    status, error, retry = await _sign_in(desk, "ann", PASSWORDS["ann"])  # even the right one waits
    assert (status, retry) == (429, "35")
    assert error == "too many failed sign-ins for user ann; try again in 35 s"
    assert (await _sign_in(desk, "raj", PASSWORDS["raj"]))[0] == 200  # others are not held up
    desk.throttle_clock.advance(34)
    assert (await _sign_in(desk, "ann", PASSWORDS["ann"]))[:3:2] == (429, "1")
    desk.throttle_clock.advance(1)
    assert (await _sign_in(desk, "ann", PASSWORDS["ann"]))[0] == 200


async def test_wrong_passwords_from_one_address_are_429_for_every_name(desk: Desk) -> None:
    for n in range(20):
        assert (await _sign_in(desk, f"guess{n}", "wrong-password"))[0] == 401
    status, error, retry = await _sign_in(desk, "boss", PASSWORDS["boss"])
    assert (status, retry) == (429, "60")
    assert "from this address" in error


async def test_a_burst_of_simultaneous_guesses_reaches_the_password_check_five_times(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = desk.users.authenticate

    def counting(name: str, password: str) -> WebUser | None:
        checked.append(name)
        return real(name, password)

    monkeypatch.setattr(desk.users, "authenticate", counting)
    replies = await asyncio.gather(*(_sign_in(desk, "ann", f"guess-{n}") for n in range(12)))
    assert sorted(status for status, _, _ in replies) == [401] * 5 + [429] * 7
    assert len(checked) == 5


async def test_a_success_resets_the_users_count(desk: Desk) -> None:
    for _ in range(4):
        await _sign_in(desk, "ann", "wrong-password")
    assert (await _sign_in(desk, "ann", PASSWORDS["ann"]))[0] == 200
    for _ in range(5):
        assert (await _sign_in(desk, "ann", "wrong-password"))[0] == 401


# -- off the event loop ---------------------------------------------------------------------------


class HeldCheck:
    """Wraps the users file's password check: each check waits in its worker thread until ``release``,
    counting how many run at once."""

    def __init__(self, real: Callable[[str, str], WebUser | None]) -> None:
        self.real = real
        self.release = threading.Event()
        self.started = threading.Event()
        self.running = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, name: str, password: str) -> WebUser | None:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        self.started.set()
        try:
            self.release.wait(5)
            return self.real(name, password)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def held(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> HeldCheck:
    check = HeldCheck(desk.users.authenticate)
    monkeypatch.setattr(desk.users, "authenticate", check)
    return check


async def test_the_password_check_leaves_the_event_loop_free(desk: Desk, held: HeldCheck) -> None:
    sign_in = asyncio.create_task(_sign_in(desk, "ann", PASSWORDS["ann"]))
    assert await asyncio.to_thread(held.started.wait, 5)
    assert held.running == 1  # the check is under way, in a worker thread
    health = await asyncio.wait_for(desk.client.get("/api/health"), 2)  # the loop still answers
    assert health.status == 200
    assert not sign_in.done()
    held.release.set()
    assert (await sign_in)[0] == 200


async def test_at_most_two_password_checks_run_at_once(desk: Desk, held: HeldCheck) -> None:
    names = ["ann", "raj", "boss", "ann", "raj"]
    sign_ins = [asyncio.create_task(_sign_in(desk, name, PASSWORDS[name])) for name in names]
    await asyncio.sleep(0.5)
    assert held.running == MAX_PASSWORD_CHECKS == 2
    held.release.set()
    assert [status for status, _, _ in await asyncio.gather(*sign_ins)] == [200] * 5
    assert held.peak == 2
