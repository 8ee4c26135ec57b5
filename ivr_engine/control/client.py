"""A typed asyncio client for the control API; what ``ivr agent`` and ``ivr queue`` talk through.

::

    async with ControlClient.from_settings(settings) as client:
        agents = await client.agents()
        async for pop in client.screen_pops("1001"):
            ...

Every failure is a :class:`~ivr_engine.control.errors.ControlError` with a one-sentence message:
``ServiceNotRunning`` when nothing listens, ``Unauthorized``, ``RequestRefused`` (the service's
``{"error": ...}`` text, e.g. a refused state change), ``MalformedReply``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp

from acd.live.api import RuntimeEvent, RuntimeEventKind
from ivr_engine.config import Settings
from ivr_engine.control.errors import (
    ControlError,
    MalformedReply,
    RequestRefused,
    ServiceNotRunning,
    Unauthorized,
)
from ivr_engine.control.token import control_token
from ivr_engine.control.views import AgentView, QueueView
from ivr_engine.screenpop import MalformedScreenPop, ScreenPop

__all__ = ["ControlClient", "Health", "SseMessage", "parse_sse"]


@dataclass(frozen=True)
class Health:
    """``GET /api/health``: the service is up and knows this many agents and queues."""

    agents: int
    queues: int


@dataclass(frozen=True)
class SseMessage:
    event: str
    data: str


class ControlClient:
    """One HTTP session to the control API at ``base_url`` (e.g. ``http://127.0.0.1:8090``)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float = 5.0) -> ControlClient:
        """A client for the service run with ``settings`` (its address and state folder's token)."""
        base_url = f"http://{settings.http_host}:{settings.http_port}"
        return cls(base_url, control_token(settings, create=False), timeout=timeout)

    async def __aenter__(self) -> ControlClient:
        self._session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {self._token}"})
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- requests ---------------------------------------------------------------------------------

    async def health(self) -> Health:
        data = _object(await self._call("GET", "/api/health"))
        return Health(int(data.get("agents", 0)), int(data.get("queues", 0)))

    async def agents(self) -> list[AgentView]:
        data = _object(await self._call("GET", "/api/agents"))
        return [AgentView.from_json(item) for item in _items(data, "agents")]

    async def agent(self, agent_id: str) -> AgentView:
        return AgentView.from_json(await self._call("GET", f"/api/agents/{_seg(agent_id)}"))

    async def login(self, agent_id: str) -> AgentView:
        return AgentView.from_json(await self._call("POST", f"/api/agents/{_seg(agent_id)}/login"))

    async def logout(self, agent_id: str) -> AgentView:
        return AgentView.from_json(await self._call("POST", f"/api/agents/{_seg(agent_id)}/logout"))

    async def ready(self, agent_id: str) -> AgentView:
        return AgentView.from_json(await self._call("POST", f"/api/agents/{_seg(agent_id)}/ready"))

    async def pause(self, agent_id: str, reason: str) -> AgentView:
        path = f"/api/agents/{_seg(agent_id)}/pause"
        return AgentView.from_json(await self._call("POST", path, {"reason": reason}))

    async def monitor(self, agent_id: str, *, supervisor: str, mode: str, by: str) -> dict[str, Any]:
        """Ring ``supervisor`` to listen to / whisper to / barge into ``agent_id``'s call; the session."""
        path = f"/api/agents/{_seg(agent_id)}/monitor"
        return _object(await self._call("POST", path, {"supervisor": supervisor, "mode": mode, "by": by}))

    async def queues(self) -> list[QueueView]:
        data = _object(await self._call("GET", "/api/queues"))
        return [QueueView.from_json(item) for item in _items(data, "queues")]

    async def latest_screen_pop(self, agent_id: str) -> ScreenPop | None:
        """The agent's latest screen-pop; None when they have had none yet (an unknown agent raises)."""
        try:
            data = await self._call("GET", f"/api/agents/{_seg(agent_id)}/screenpop")
        except RequestRefused as exc:
            if exc.status == 404 and exc.message.startswith("no screen-pop yet"):
                return None
            raise
        return _screen_pop(data)

    # -- streams ----------------------------------------------------------------------------------

    async def screen_pops(self, agent_id: str) -> AsyncIterator[ScreenPop]:
        """Every screen-pop for ``agent_id`` from now on, until the service goes away."""
        async for message in self._stream(f"/api/agents/{_seg(agent_id)}/screenpops"):
            if message.event == "screenpop":
                yield _screen_pop(_decode(message.data))

    async def events(self) -> AsyncIterator[RuntimeEvent]:
        """Every ACD runtime event from now on."""
        async for message in self._stream("/api/events"):
            yield _runtime_event(_decode(message.data))

    async def _stream(self, path: str) -> AsyncIterator[SseMessage]:
        session = self._require_session()
        timeout = aiohttp.ClientTimeout(total=None, connect=self._timeout, sock_read=None)
        try:
            async with session.get(self.base_url + path, timeout=timeout) as response:
                if response.status >= 400:
                    raise _refusal(response.status, await response.text())
                async for message in parse_sse(response.content):
                    yield message
        except aiohttp.ClientConnectorError:
            raise ServiceNotRunning(self.base_url) from None
        except aiohttp.ClientError as exc:
            raise ControlError(f"the stream from the ivr service at {self.base_url} broke: {exc}") from None

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        session = self._require_session()
        try:
            async with session.request(
                method, self.base_url + path, json=body, timeout=aiohttp.ClientTimeout(total=self._timeout)
            ) as response:
                text = await response.text()
                if response.status >= 400:
                    raise _refusal(response.status, text)
                return _decode(text)
        except aiohttp.ClientConnectorError:
            raise ServiceNotRunning(self.base_url) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            detail = str(exc) or type(exc).__name__
            raise ControlError(f"the ivr service at {self.base_url} did not answer: {detail}") from None

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("use ControlClient in `async with`")
        return self._session


async def parse_sse(content: aiohttp.StreamReader) -> AsyncIterator[SseMessage]:
    """Server-sent events from a response body: one message per blank-line-terminated block."""
    event = "message"
    data: list[str] = []
    async for raw in content:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield SseMessage(event, "\n".join(data))
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)


def _seg(value: str) -> str:
    """One URL path segment (agent ids are plain, but never let one escape its segment)."""
    return quote(value, safe="")


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedReply(f"the service answered something that is not JSON: {exc.msg}") from None


def _refusal(status: int, text: str) -> ControlError:
    try:
        message = str(json.loads(text)["error"])
    except (json.JSONDecodeError, KeyError, TypeError):
        message = f"HTTP {status}: {text.strip()[:200]}"
    if status == 401:
        return Unauthorized(f"{message}: is the service using the same state folder (--state-dir)?")
    return RequestRefused(status, message)


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MalformedReply("the service answered JSON that is not an object")
    return data


def _items(data: dict[str, Any], key: str) -> list[Any]:
    items = data.get(key)
    if not isinstance(items, list):
        raise MalformedReply(f"the service's answer has no list {key!r}")
    return items


def _screen_pop(data: Any) -> ScreenPop:
    try:
        return ScreenPop.from_json(data)
    except MalformedScreenPop as exc:
        raise MalformedReply(str(exc)) from None


def _runtime_event(data: Any) -> RuntimeEvent:
    try:
        d = _object(data)
        return RuntimeEvent(
            kind=RuntimeEventKind(d["kind"]),
            at=datetime.fromisoformat(d["at"]),
            agent_id=d.get("agent_id"),
            call_id=d.get("call_id"),
            caller=d.get("caller"),
            queue=d.get("queue"),
            detail=str(d.get("detail", "")),
            node=None if d.get("node") is None else str(d["node"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedReply(f"the service sent a malformed event: {exc}") from None
