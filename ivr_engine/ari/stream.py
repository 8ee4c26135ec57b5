"""The ARI events WebSocket: connect, read in order, and reconnect forever, quickly.

The stream never raises for connection trouble: it logs, counts the reconnect, waits and tries again
until cancelled. While Asterisk is down it probes often and cheaply (a refused TCP connect costs next to
nothing): 0.2 s, then 0.4 s, 0.8 s and 1 s at most between attempts (``Backoff``, reset after a good
connection), and a handshake that hangs is given up after ``connect_timeout``; so the app is registered
again about a second after ARI answers. The first failure of an outage is logged as a warning, then
every ``LOG_EVERY``-th, the rest at debug level. Every message is parsed and
handed, in arrival order, to a synchronous ``on_event`` callback (which must not block: the service
only enqueues). ``on_connected`` runs after each successful connect; the service uses it to start a
resync, as a separate task, so reading never pauses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import orjson

from ivr_engine.ari.client import AriConfig
from ivr_engine.ari.errors import AriError, from_aiohttp
from ivr_engine.ari.events import AriEvent, parse_event
from ivr_engine.logs import fields

__all__ = ["LOG_EVERY", "Backoff", "EventStream"]

log = logging.getLogger(__name__)

LOG_EVERY = 60
"""While the events WebSocket stays unavailable, one failed attempt in this many is a warning."""


@dataclass(frozen=True)
class Backoff:
    """Delay before reconnect attempt ``n`` (1-based): ``initial * factor**(n-1)``, capped."""

    initial: float = 0.2
    factor: float = 2.0
    maximum: float = 1.0

    def delay(self, attempt: int) -> float:
        return min(self.maximum, self.initial * self.factor ** max(0, attempt - 1))


class EventStream:
    """One app's events WebSocket. ``reconnects`` counts connections lost after the first success."""

    def __init__(
        self,
        config: AriConfig,
        session: aiohttp.ClientSession,
        *,
        on_event: Callable[[AriEvent], None],
        on_connected: Callable[[int], None] | None = None,
        backoff: Backoff | None = None,
        heartbeat: float = 10.0,
        connect_timeout: float = 2.0,
    ) -> None:
        self._config = config
        self._session = session
        self._on_event = on_event
        self._on_connected = on_connected
        self._backoff = backoff or Backoff()
        self._heartbeat = heartbeat
        self._connect_timeout = connect_timeout
        self.connections = 0
        self.reconnects = 0
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Read events until cancelled, reconnecting whenever the connection is lost or refused."""
        failures = 0
        while True:
            try:
                await self._read_one_connection()
                failures = 0
                log.warning(fields("ari.events.closed", url=self._config.events_url))
            except AriError as exc:
                if _cancelling():  # a cancel that arrived as the attempt failed must not be lost
                    raise asyncio.CancelledError from exc
                failures += 1
                loud = failures % LOG_EVERY == 1 or LOG_EVERY == 1
                log.log(logging.WARNING if loud else logging.DEBUG,
                        fields("ari.events.unavailable", error=str(exc), attempt=failures))
            finally:
                if self.connected.is_set():
                    self.connected.clear()
                    self.reconnects += 1
            await asyncio.sleep(self._backoff.delay(max(1, failures)))

    async def _read_one_connection(self) -> None:
        url = self._config.events_url
        params = {"app": self._config.app_name, "subscribeAll": "false"}
        try:
            connecting = self._session.ws_connect(
                url, params=params, headers=self._config.headers, heartbeat=self._heartbeat
            )
            async with asyncio.timeout(self._connect_timeout):  # not wait_for: on 3.11 it can swallow a
                ws = await connecting                           # cancel when the attempt ends at once
            async with ws:
                self.connections += 1
                self.connected.set()
                log.info(fields("ari.events.connected", url=url, n=self.connections))
                if self._on_connected is not None:
                    self._on_connected(self.connections)
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        self._handle(message.data)
                    elif message.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED):
                        break
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise from_aiohttp("GET", "/events", exc) from exc

    def _handle(self, text: str) -> None:
        try:
            event = parse_event(orjson.loads(text))
        except (ValueError, AriError) as exc:
            log.warning(fields("ari.events.unreadable", error=str(exc), message=text[:200]))
            return
        self._on_event(event)


def _cancelling() -> bool:
    """Whether the running task has been asked to stop."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
