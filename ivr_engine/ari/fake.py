"""An in-process fake ARI (aiohttp server on 127.0.0.1) for unit tests of anything that talks ARI.

It keeps channels and bridges, answers the REST calls ``AriClient`` makes, records every request, and
pushes events over the events WebSocket like Asterisk does: playbacks finish after
``playback_seconds`` (or at once when stopped), recordings finish on their terminator key or after
their maximum, hangups produce ChannelHangupRequest, StasisEnd and ChannelDestroyed. Music on hold is
kept per channel in ``moh`` (channel id -> class) until stopped or the channel goes. Tests drive callers
with :meth:`FakeAri.incoming`, :meth:`FakeAri.dtmf` and :meth:`FakeAri.caller_hangup`. The playbacks
and recordings are ``FakeAri.media`` (``ari.fake_media``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import ssl
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from ivr_engine.ari.client import AriConfig
from ivr_engine.ari.fake_media import FakeMedia, not_found

__all__ = ["FakeAri", "FakeRequest"]

Json = dict[str, Any]


@dataclass(frozen=True)
class FakeRequest:
    method: str
    path: str
    params: dict[str, str]


@dataclass
class FakeAri:
    """Start with ``await fake.start()``; stop with ``await fake.close()``."""

    user: str = "ivr"
    password: str = "secret"
    app_name: str = "ivr-engine"
    playback_seconds: float = 0.05
    stop_seconds: float = 0.0
    """How long after a stop request its playback's PlaybackFinished comes (Asterisk stops a playback at
    the channel's next frame, after the request has been answered); 0: before the answer."""
    record_seconds: float = 0.2
    failing_media: set[str] = field(default_factory=set)
    lost_events: set[str] = field(default_factory=set)
    """Event types never sent (as if lost with a dropped WebSocket), e.g. ``{"PlaybackFinished"}``."""
    late_events: dict[str, float] = field(default_factory=dict)
    """Event type -> seconds its events reach the clients late (a busy Asterisk or events stream)."""
    events_disallowed: set[str] = field(default_factory=set)
    """Event types the app asked not to be sent (``PUT /applications/{app}/eventFilter``)."""
    channels: dict[str, Json] = field(default_factory=dict)
    bridges: dict[str, Json] = field(default_factory=dict)
    requests: list[FakeRequest] = field(default_factory=list)
    errors: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    delays: dict[tuple[str, str], float] = field(default_factory=dict)
    """``(method, path prefix)`` -> seconds the request waits before it is carried out."""
    endpoint_states: dict[str, str] = field(default_factory=dict)
    """``"PJSIP/1001"`` -> ARI endpoint state; endpoints not listed are ``online``."""
    moh: dict[str, str] = field(default_factory=dict)
    """Channels hearing music on hold now -> the class."""
    talking_seconds: float | None = None
    """``talking_duration`` of recordings made with ``maxSilenceSeconds`` (None: their whole length)."""
    deleted_recordings: list[str] = field(default_factory=list)
    _sockets: set[web.WebSocketResponse] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _runner: web.AppRunner | None = None
    port: int = 0
    accepting: bool = True
    stalling: bool = False
    """Events WebSocket handshakes hang (never answered) while set."""
    ws_connects: int = 0
    ws_attempts: int = 0
    """Every events WebSocket request, refused ones included."""
    _connect_seen: asyncio.Event = field(default_factory=asyncio.Event)
    tls: ssl.SSLContext | None = None
    """Serve over TLS with this context (``https``/``wss``), as an Asterisk with ``tlsenable`` does."""

    def __post_init__(self) -> None:
        self.media = FakeMedia(self)
        """The playbacks and recordings running now."""

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> AriConfig:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/ari/events", self._events)
        app.router.add_route("*", "/ari/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=self.tls)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self.config

    @property
    def config(self) -> AriConfig:
        scheme = "https" if self.tls is not None else "http"
        return AriConfig(f"{scheme}://127.0.0.1:{self.port}/ari", self.user, self.password, self.app_name)

    async def close(self) -> None:
        await self.drop_websockets()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    async def drop_websockets(self) -> None:
        """Close every events WebSocket, as an Asterisk restart would."""
        for ws in list(self._sockets):
            await ws.close()
        self._sockets.clear()

    async def connected(self, count: int = 1, wait: float = 5.0) -> None:
        """Wait until ``count`` WebSocket connections have been made in total."""
        async with asyncio.timeout(wait):
            while self.ws_connects < count or not self._sockets:
                self._connect_seen.clear()
                await self._connect_seen.wait()

    # -- callers ----------------------------------------------------------------------------------

    def add_channel(self, channel_id: str, *, caller: str = "1000", exten: str = "100") -> Json:
        channel: Json = {
            "id": channel_id,
            "name": f"PJSIP/anonymous-{channel_id}",
            "state": "Ring",
            "caller": {"name": "", "number": caller},
            "connected": {"name": "", "number": ""},
            "dialplan": {"context": "ivr", "exten": exten, "priority": 1},
            "language": "en",
        }
        self.channels[channel_id] = channel
        return channel

    async def incoming(self, channel_id: str, *args: str, caller: str = "1000") -> None:
        """A caller enters Stasis with ``args`` (args[0] is the dialled number)."""
        channel = self.add_channel(channel_id, caller=caller, exten=args[0] if args else "")
        await self.push({"type": "StasisStart", "args": list(args), "channel": channel})

    async def dtmf(self, channel_id: str, digits: str) -> None:
        for digit in digits:
            await self.push(
                {"type": "ChannelDtmfReceived", "digit": digit, "duration_ms": 100,
                 "channel": self.channels[channel_id]}
            )
            await self.media.key(channel_id, digit)

    async def caller_hangup(self, channel_id: str) -> None:
        channel = self.channels.pop(channel_id)
        self.moh.pop(channel_id, None)
        await self.push({"type": "ChannelHangupRequest", "cause": 16, "channel": channel})
        await self.media.hung_up(channel_id)  # as in Asterisk: a hang-up ends the recording, kept
        await self.push({"type": "StasisEnd", "channel": channel})
        await self.push({"type": "ChannelDestroyed", "cause": 16, "cause_txt": "Normal Clearing",
                         "channel": channel})

    async def push(self, event: Json, *, after: float = 0.0) -> None:
        """Send ``event`` to the clients, ``after`` seconds later (plus its type's ``late_events``)."""
        if event.get("type") in self.lost_events or event.get("type") in self.events_disallowed:
            return
        after += self.late_events.get(str(event.get("type")), 0.0)
        if after <= 0:
            await self._send(event)
            return

        async def later() -> None:
            await asyncio.sleep(after)
            await self._send(event)

        self.spawn(later())

    async def _send(self, event: Json) -> None:
        event.setdefault("application", self.app_name)
        event.setdefault("timestamp", "2024-01-01T00:00:00.000+0000")
        text = json.dumps(event)
        for ws in list(self._sockets):
            with contextlib.suppress(ConnectionError):
                await ws.send_str(text)

    def calls(self, method: str, prefix: str) -> list[FakeRequest]:
        """Requests made so far with ``method`` whose path starts with ``prefix``."""
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    # -- server -----------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if auth != expected:
            return web.json_response({"message": "Authentication required"}, status=401)
        result: web.StreamResponse = await handler(request)
        return result

    async def _events(self, request: web.Request) -> web.StreamResponse:
        self.ws_attempts += 1
        while self.stalling:  # noqa: ASYNC110 - a test flips the flag
            await asyncio.sleep(0.01)
        if not self.accepting or request.query.get("app") != self.app_name:
            return web.json_response({"message": "Service unavailable"}, status=503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.ws_connects += 1
        self._sockets.add(ws)
        self._connect_seen.set()
        try:
            async for message in ws:
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            self._sockets.discard(ws)
        return ws

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as a task of the fake's (cancelled by ``close``)."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        params = dict(request.query)
        self.requests.append(FakeRequest(request.method, path, params))
        for (method, prefix), (status, message) in self.errors.items():
            if request.method == method and path.startswith(prefix):
                return web.json_response({"message": message}, status=status)
        for (method, prefix), seconds in self.delays.items():
            if request.method == method and path.startswith(prefix):
                await asyncio.sleep(seconds)
        parts = path.strip("/").split("/")
        body = await request.json() if request.can_read_body else None
        result = await self._route(request.method, parts, params, body)
        if isinstance(result, web.StreamResponse):
            return result
        if result is None:
            return web.Response(status=204)
        return web.json_response(result)

    async def _route(self, method: str, parts: list[str], params: dict[str, str], body: Any) -> Any:
        head = parts[0]
        if head == "channels":
            return await self._channels(method, parts[1:], params)
        if head in ("playbacks", "recordings"):
            return await self.media.route(method, parts)
        if head == "bridges":
            return await self._bridges(method, parts[1:], params)
        if head == "applications" and parts[2:] == ["eventFilter"] and method == "PUT":
            self.events_disallowed = {str(e.get("type")) for e in (body or {}).get("disallowed", [])}
            return self._application(parts[1])
        if head == "applications":
            return self._application(parts[1])
        if head == "endpoints" and len(parts) == 3 and method == "GET":
            name = f"{parts[1]}/{parts[2]}"
            return {"technology": parts[1], "resource": parts[2],
                    "state": self.endpoint_states.get(name, "online"), "channel_ids": []}
        if head == "asterisk" and parts[1:] == ["info"]:
            return {"system": {"version": "16.28.0-fake", "entity_id": "fa:ke"}}
        return not_found("Resource")

    def _application(self, name: str) -> Json:
        return {
            "name": name,
            "channel_ids": sorted(self.channels),
            "bridge_ids": sorted(self.bridges),
            "endpoint_ids": [],
            "device_names": [],
            "events_disallowed": [{"type": kind} for kind in sorted(self.events_disallowed)],
        }

    async def _channels(self, method: str, rest: list[str], params: dict[str, str]) -> Any:
        if not rest:
            return list(self.channels.values())
        channel_id, action = rest[0], (rest[1] if len(rest) > 1 else "")
        if method == "POST" and not action:
            created = self.add_channel(channel_id, caller=params.get("callerId", ""))
            created["state"] = "Down"
            return created
        channel = self.channels.get(channel_id)
        if channel is None:
            return not_found("Channel")
        if method == "GET" and not action:
            return channel
        if method == "DELETE" and not action:
            del self.channels[channel_id]
            self.moh.pop(channel_id, None)
            await self.push({"type": "StasisEnd", "channel": channel})
            await self.push({"type": "ChannelDestroyed", "cause": 16, "channel": channel})
            return None
        if action == "answer":
            channel["state"] = "Up"
            await self.push({"type": "ChannelStateChange", "channel": channel})
            return None
        if action == "play":
            return await self.media.play(channel_id, rest[2], params["media"])
        if action == "record":
            return await self.media.record(channel_id, params)
        if action == "moh" and method == "POST":
            self.moh[channel_id] = params.get("mohClass", "default")
            return None
        if action == "moh" and method == "DELETE":
            self.moh.pop(channel_id, None)
            return None
        if action == "variable":
            variables = channel.setdefault("_vars", {})
            if method == "POST":
                variables[params["variable"]] = params.get("value", "")
                return None
            if params["variable"] not in variables:
                return not_found("Variable")
            return {"value": variables[params["variable"]]}
        return not_found("Resource")

    async def _bridges(self, method: str, rest: list[str], params: dict[str, str]) -> Any:
        if not rest:
            return list(self.bridges.values())
        bridge_id, action = rest[0], (rest[1] if len(rest) > 1 else "")
        if method == "POST" and not action:
            bridge: Json = {"id": bridge_id, "bridge_type": params.get("type", "mixing"), "channels": []}
            self.bridges[bridge_id] = bridge
            return bridge
        found = self.bridges.get(bridge_id)
        if found is None:
            return not_found("Bridge")
        if method == "DELETE":
            del self.bridges[bridge_id]
            await self.push({"type": "BridgeDestroyed", "bridge": found})
            return None
        ids = params.get("channel", "").split(",")
        if any(i not in self.channels for i in ids):
            return web.json_response({"message": "Channel not found"}, status=400)
        channels = [self.channels[i] for i in ids]  # taken now: one may hang up while the events go out
        if action == "addChannel":
            found["channels"] = sorted({*found["channels"], *ids})
            for channel in channels:
                await self.push({"type": "ChannelEnteredBridge", "bridge": found, "channel": channel})
        elif action == "removeChannel":
            if any(i not in found["channels"] for i in ids):  # as Asterisk answers
                return web.json_response({"message": "Channel not in this bridge"}, status=422)
            found["channels"] = [c for c in found["channels"] if c not in ids]
            for channel in channels:
                await self.push({"type": "ChannelLeftBridge", "bridge": found, "channel": channel})
        return None

