"""Several nodes: hearing at once that another node changed the ACD (PostgreSQL ``LISTEN``).

``SqlStore`` sends ``NOTIFY acd_changed, '<node>'`` in every transaction that changed an agent, a call or
an offer (delivered at commit). ``ChangeListener`` listens on a connection of its own, in a thread of its
own (never on the event loop), and for every notification from another node calls ``wake`` on the loop:
the runtime then ticks at once (``acd.live.tap.Ticker``), which rings offers made elsewhere for this
node's callers, stops legs whose offer ended elsewhere and refreshes the operators' view. The periodic
tick stays the fallback: a notification lost with a dropped connection delays nothing by more than a
tick. After (re)connecting it wakes the runtime once, as notifications may have been missed.

Given ``events``, the same connection also listens on ``acd.live.node_bus.EVENTS_CHANNEL`` (the other
nodes' runtime events) and hands each payload to ``events`` (from its thread: ``node_bus.on_loop``);
``listening`` is called on the loop once it listens, after every (re)connect (``NodeBus.hello``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from acd.live.node_bus import EVENTS_CHANNEL
from acd.sql_store import CHANGES_CHANNEL
from ivr_engine.logs import fields

__all__ = ["ChangeListener", "libpq_url"]

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.5
_RETRY_SECONDS = 1.0


def libpq_url(sqlalchemy_url: str) -> str:
    """``postgresql+psycopg://...`` as the plain ``postgresql://...`` psycopg connects to."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class ChangeListener:
    def __init__(self, url: str, node: str, wake: Callable[[], None], *,
                 events: Callable[[str], None] | None = None,
                 listening: Callable[[], None] | None = None) -> None:
        self._conninfo = libpq_url(url)
        self._node = node
        self._wake = wake
        self._events = events
        self._listening = listening
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.heard = 0
        """Notifications from other nodes so far (tests)."""

    def start(self) -> None:
        """Listen from now on (called on the event loop, whose ``wake`` it calls)."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="acd-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (blocks up to a poll interval: call it off the loop)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _signal(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANGES_CHANNEL}")
                    if self._events is not None:
                        conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    self._signal()
                    if self._listening is not None and self._loop is not None and not self._loop.is_closed():
                        self._loop.call_soon_threadsafe(self._listening)
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=_POLL_SECONDS):
                            if notice.channel == EVENTS_CHANNEL:
                                if self._events is not None:
                                    self._events(notice.payload)
                            elif notice.payload != self._node:
                                self.heard += 1
                                self._signal()
            except psycopg.Error as exc:
                log.warning(fields("acd.listen.failed", error=str(exc).splitlines()[0] if str(exc) else ""))
                self._stop.wait(_RETRY_SECONDS)
