"""A thin asyncio client for ARI's REST interface: requests over ``ivr_engine.ari.http``'s kept-alive
connections; the aiohttp ``ClientSession`` it holds serves the events WebSocket (``ari.stream``).

The transport seam is ``AriConfig.base_url``: unit tests point the client at an in-process fake
(``ivr_engine.ari.fake``), the service at Asterisk. Every failure surfaces as an
``AriError`` (see ``ivr_engine.ari.errors``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import ssl
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from ivr_engine.ari.errors import AriProtocolError, from_aiohttp, from_status
from ivr_engine.ari.events import BridgeSnapshot, ChannelSnapshot, PlaybackSnapshot, RecordingSnapshot
from ivr_engine.ari.http import AriHttp, ConnectionDropped, encode_target
from ivr_engine.config import Settings
from ivr_engine.logs import fields

__all__ = ["AppInfo", "AriClient", "AriConfig", "AsteriskInfo"]

_Params = Mapping[str, str | int | float]

log = logging.getLogger(__name__)

RETRY_PAUSES = (0.0, 0.05, 0.1, 0.2, 0.4)
"""A request whose connection closes without an answer is sent again after each of these pauses (s),
then fails: 0.75 s of pauses in all, while Asterisk over its HTTP ``sessionlimit`` closes every new
connection until one of the others ends."""

@dataclass(frozen=True)
class AriConfig:
    """Where ARI is and who we are: ``base_url`` ends in ``/ari``."""

    base_url: str
    user: str
    password: str
    app_name: str
    request_timeout: float = 10.0
    connections: int = 50
    """At most this many REST connections at once (further requests wait for one). Asterisk serves at
    most ``sessionlimit`` HTTP connections (``http.conf``, default 100) and closes any beyond it at once:
    keep that above this figure plus one (the events WebSocket) for every service node using it."""

    @classmethod
    def from_settings(cls, settings: Settings) -> AriConfig:
        """Config from settings; call ``settings.with_secrets()`` first so the password is set."""
        return cls(settings.ari_url, settings.ari_user, settings.ari_password, settings.app_name)

    @property
    def events_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/events"

    @property
    def headers(self) -> dict[str, str]:
        """HTTP Basic authorisation for REST and the WebSocket."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}


@dataclass(frozen=True)
class AppInfo:
    """What Asterisk says our Stasis application is subscribed to."""

    name: str
    channel_ids: frozenset[str]
    bridge_ids: frozenset[str]


@dataclass(frozen=True)
class AsteriskInfo:
    version: str
    entity_id: str


def _flag(value: bool) -> str:
    return "true" if value else "false"


class AriClient:
    """ARI REST calls we use. Ids (channel, bridge, playback) are ours, so callers know them up front."""

    def __init__(
        self, config: AriConfig, session: aiohttp.ClientSession, *, tls: ssl.SSLContext | None = None
    ) -> None:
        self.config = config
        self.session = session  # the events WebSocket's; REST requests go through ``AriHttp``
        self._http = AriHttp(config.base_url, config.headers, limit=config.connections, tls=tls)

    @classmethod
    def open(cls, config: AriConfig) -> AriClient:
        """A client with its own session; close it with :meth:`close`. Call inside a running loop.

        Over ``https`` the REST connections and the events WebSocket share one TLS context, made here:
        the system's CAs, or the PEM file ``SSL_CERT_FILE`` names when the client is opened."""
        timeout = aiohttp.ClientTimeout(total=config.request_timeout)
        tls = ssl.create_default_context() if config.base_url.startswith("https://") else None
        connector = aiohttp.TCPConnector(ssl=tls) if tls is not None else None
        return cls(config, aiohttp.ClientSession(timeout=timeout, connector=connector), tls=tls)

    async def close(self) -> None:
        self._http.close()
        await self.session.close()

    async def request(
        self, method: str, path: str, *, params: _Params | None = None, body: Any = None
    ) -> Any:
        """One ARI call; returns the decoded JSON body (None for 204). All errors are ``AriError``."""
        if log.isEnabledFor(logging.DEBUG):  # one per command: debug detail
            log.debug(fields("ari.request", method=method, path=path))
        target = encode_target(path, {k: str(v) for k, v in params.items()} if params else None)
        data = orjson.dumps(body) if body is not None else None
        attempt = 0
        while True:
            try:  # the first retry on a new connection: Asterisk may have dropped all of ours
                return await self._send(method, path, target, data, fresh=attempt == 1)
            except ConnectionDropped as exc:
                # Closed under the request without an answer: Asterisk dropped its connections (e.g.
                # with the events WebSocket), or it serves more HTTP connections than its sessionlimit
                # and closed a new one at once (later retries take an idle one of ours if one is open).
                if attempt == len(RETRY_PAUSES):
                    raise from_aiohttp(method, path, exc) from exc
                log.info(fields("ari.request.retried", method=method, path=path, attempt=attempt + 1,
                                error=type(exc).__name__))  # fmt: skip
            await asyncio.sleep(RETRY_PAUSES[attempt])
            attempt += 1

    async def _send(self, method: str, path: str, target: str, data: bytes | None, *, fresh: bool) -> Any:
        try:
            async with asyncio.timeout(self.config.request_timeout):
                answer = await self._http.request(method, target, data, fresh=fresh)
        except ConnectionDropped:
            raise
        except (TimeoutError, OSError) as exc:  # refused: nobody to ask again
            raise from_aiohttp(method, path, exc) from exc
        raw = answer.body
        if answer.status >= 400:
            raise from_status(method, path, answer.status, _message(_text(raw)))
        if answer.status == 204 or not raw.strip():
            return None
        try:
            return orjson.loads(raw)
        except ValueError as exc:
            raise AriProtocolError(f"ARI {method} {path}: not JSON: {_text(raw)[:200]!r}") from exc

    # -- channels ---------------------------------------------------------------------------------

    async def list_channels(self) -> list[ChannelSnapshot]:
        data = await self.request("GET", "/channels")
        return [ChannelSnapshot.from_json(item) for item in _list(data, "GET /channels")]

    async def get_channel(self, channel_id: str) -> ChannelSnapshot:
        return ChannelSnapshot.from_json(await self.request("GET", f"/channels/{channel_id}"))

    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/answer")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self.request("DELETE", f"/channels/{channel_id}", params={"reason": reason})

    async def play(
        self, channel_id: str, media: Sequence[str], playback_id: str, *, lang: str = ""
    ) -> None:
        """Start one playback of ``media`` (URIs played in order) under our ``playback_id``."""
        params: dict[str, str | int | float] = {"media": ",".join(media)}
        if lang:
            params["lang"] = lang
        await self.request("POST", f"/channels/{channel_id}/play/{playback_id}", params=params)

    async def start_moh(self, channel_id: str, moh_class: str = "default") -> None:
        """Play musiconhold.conf's ``moh_class`` to the channel until :meth:`stop_moh`. It is not a
        playback (no playback events); DTMF events keep arriving while it plays."""
        await self.request("POST", f"/channels/{channel_id}/moh", params={"mohClass": moh_class})

    async def stop_moh(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{channel_id}/moh")

    async def stop_playback(self, playback_id: str) -> None:
        await self.request("DELETE", f"/playbacks/{playback_id}")

    async def get_playback(self, playback_id: str) -> PlaybackSnapshot:
        """The playback as Asterisk has it now (``queued``/``playing``...); AriNotFound once it ended."""
        return PlaybackSnapshot.from_json(await self.request("GET", f"/playbacks/{playback_id}"))

    async def get_live_recording(self, name: str) -> RecordingSnapshot:
        """A recording still in progress (``recording``/``paused``...); AriNotFound once it ended."""
        return RecordingSnapshot.from_json(await self.request("GET", f"/recordings/live/{name}"))

    async def record(
        self,
        channel_id: str,
        *,
        name: str,
        max_seconds: float,
        beep: bool = True,
        terminate_on: str = "#",
        fmt: str = "wav",
        max_silence_seconds: float = 0,
    ) -> None:
        """Record into the named recording (``<spool>/recording/<name>.<fmt>``), overwriting it."""
        await self.request(
            "POST",
            f"/channels/{channel_id}/record",
            params={
                "name": name,
                "format": fmt,
                "maxDurationSeconds": max(1, round(max_seconds)),
                "maxSilenceSeconds": round(max_silence_seconds),
                "beep": _flag(beep),
                "terminateOn": terminate_on or "none",
                "ifExists": "overwrite",
            },
        )

    async def delete_stored_recording(self, name: str) -> None:
        await self.request("DELETE", f"/recordings/stored/{name}")

    async def stop_recording(self, name: str) -> None:
        await self.request("POST", f"/recordings/live/{name}/stop")

    async def originate(
        self,
        endpoint: str,
        *,
        channel_id: str,
        app_args: Sequence[str] = (),
        caller_id: str = "",
        ring_seconds: int = 30,
        variables: Mapping[str, str] | None = None,
    ) -> ChannelSnapshot:
        """Dial ``endpoint`` (e.g. ``PJSIP/1001``) into our app; StasisStart follows on answer."""
        params: dict[str, str | int | float] = {
            "endpoint": endpoint,
            "app": self.config.app_name,
            "appArgs": ",".join(app_args),
            "timeout": ring_seconds,
        }
        if caller_id:
            params["callerId"] = caller_id
        body = {"variables": dict(variables)} if variables else None
        data = await self.request("POST", f"/channels/{channel_id}", params=params, body=body)
        return ChannelSnapshot.from_json(data)

    async def snoop(
        self, channel_id: str, *, snoop_id: str, spy: str = "both", whisper: str = "none",
        app_args: Sequence[str] = (),
    ) -> ChannelSnapshot:
        """A snoop channel on ``channel_id`` into our app: it hears the channel's audio (``spy``: ``in``
        what the channel's phone sends, ``out`` what it is sent, ``both``) and speaks into it
        (``whisper``: ``out`` = heard by the channel's phone only)."""
        params: dict[str, str | int | float] = {
            "app": self.config.app_name, "appArgs": ",".join(app_args), "spy": spy, "whisper": whisper,
            "snoopId": snoop_id,
        }
        data = await self.request("POST", f"/channels/{channel_id}/snoop", params=params)
        return ChannelSnapshot.from_json(data)

    async def get_variable(self, channel_id: str, name: str) -> str:
        data = await self.request("GET", f"/channels/{channel_id}/variable", params={"variable": name})
        return str(data.get("value", "")) if isinstance(data, Mapping) else ""

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        await self.request(
            "POST", f"/channels/{channel_id}/variable", params={"variable": name, "value": value}
        )

    # -- bridges ----------------------------------------------------------------------------------

    async def list_bridges(self) -> list[BridgeSnapshot]:
        data = await self.request("GET", "/bridges")
        return [BridgeSnapshot.from_json(item) for item in _list(data, "GET /bridges")]

    async def create_bridge(
        self, bridge_id: str, *, bridge_type: str = "mixing", name: str = ""
    ) -> BridgeSnapshot:
        params: dict[str, str | int | float] = {"type": bridge_type}
        if name:
            params["name"] = name
        return BridgeSnapshot.from_json(await self.request("POST", f"/bridges/{bridge_id}", params=params))

    async def add_channel(self, bridge_id: str, channel_ids: Sequence[str]) -> None:
        await self.request(
            "POST", f"/bridges/{bridge_id}/addChannel", params={"channel": ",".join(channel_ids)}
        )

    async def remove_channel(self, bridge_id: str, channel_ids: Sequence[str]) -> None:
        await self.request(
            "POST", f"/bridges/{bridge_id}/removeChannel", params={"channel": ",".join(channel_ids)}
        )

    async def record_bridge(self, bridge_id: str, *, name: str, fmt: str = "wav") -> None:
        """Record the bridge's mix (every party) into ``<spool>/recording/<name>.<fmt>`` until the bridge
        is destroyed or the recording stopped; no length limit, no beep, no terminating key."""
        await self.request(
            "POST",
            f"/bridges/{bridge_id}/record",
            params={"name": name, "format": fmt, "maxDurationSeconds": 0, "beep": "false",
                    "terminateOn": "none", "ifExists": "overwrite"},
        )

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{bridge_id}")

    async def endpoint_state(self, endpoint: str) -> str:
        """ARI's state of ``TECH/RESOURCE`` (``online``, ``offline``, ``unknown``); 404 raises AriNotFound."""
        data = await self.request("GET", f"/endpoints/{endpoint}")
        return str(data.get("state", "unknown")) if isinstance(data, Mapping) else "unknown"

    # -- application and system -------------------------------------------------------------------

    async def get_application(self, name: str = "") -> AppInfo:
        app = name or self.config.app_name
        data = await self.request("GET", f"/applications/{app}")
        if not isinstance(data, Mapping):
            raise AriProtocolError(f"ARI GET /applications/{app}: not an object")
        return AppInfo(
            name=str(data.get("name", app)),
            channel_ids=frozenset(str(c) for c in data.get("channel_ids", ()) or ()),
            bridge_ids=frozenset(str(b) for b in data.get("bridge_ids", ()) or ()),
        )

    async def filter_events(self, disallowed: Collection[str], name: str = "") -> None:
        """Ask Asterisk not to send the app events of these types (``PUT .../eventFilter``, Asterisk
        16.3 and later). The filter lives with the app in Asterisk: ask again after every connect."""
        app = name or self.config.app_name
        body = {"disallowed": [{"type": kind} for kind in sorted(disallowed)]}
        await self.request("PUT", f"/applications/{app}/eventFilter", body=body)

    async def asterisk_info(self) -> AsteriskInfo:
        data = await self.request("GET", "/asterisk/info")
        system = data.get("system", {}) if isinstance(data, Mapping) else {}
        return AsteriskInfo(
            version=str(system.get("version", "")), entity_id=str(system.get("entity_id", ""))
        )


def _list(data: Any, what: str) -> list[Mapping[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(item, Mapping) for item in data):
        raise AriProtocolError(f"ARI {what}: expected a list of objects")
    return data


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _message(text: str) -> str:
    """ARI's error message from a response body (``{"message": ...}``, or the text itself)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:300]
    if isinstance(data, Mapping) and "message" in data:
        return str(data["message"])
    return text.strip()[:300]
