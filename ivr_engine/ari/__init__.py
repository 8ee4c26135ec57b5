"""A thin asyncio ARI client of our own over aiohttp: REST, the events WebSocket, and ``AriChannel``."""

from ivr_engine.ari.channel import AriChannel
from ivr_engine.ari.client import AppInfo, AriClient, AriConfig, AsteriskInfo
from ivr_engine.ari.dispatch import CallRouter, channel_of
from ivr_engine.ari.errors import (
    AriAuthError,
    AriConflict,
    AriConnectionError,
    AriError,
    AriHttpError,
    AriNotFound,
    AriProtocolError,
)
from ivr_engine.ari.events import AriEvent, parse_event
from ivr_engine.ari.media import MediaResolver, Synthesiser, default_resolver
from ivr_engine.ari.stream import Backoff, EventStream

__all__ = [
    "AppInfo",
    "AriAuthError",
    "AriChannel",
    "AriClient",
    "AriConfig",
    "AriConflict",
    "AriConnectionError",
    "AriError",
    "AriEvent",
    "AriHttpError",
    "AriNotFound",
    "AriProtocolError",
    "AsteriskInfo",
    "Backoff",
    "CallRouter",
    "EventStream",
    "MediaResolver",
    "Synthesiser",
    "channel_of",
    "default_resolver",
    "parse_event",
]
