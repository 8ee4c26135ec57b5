"""Typed ARI events: the ones the service acts on, plus ``UnknownEvent`` for the rest.

:func:`parse_event` turns one decoded WebSocket message into exactly one of these frozen dataclasses.
``ChannelVanished`` is ours, not Asterisk's: the resync after a reconnect sends it to a call whose
channel no longer exists, so the call's task learns it the same way it learns of a hangup. ``Recheck`` is
ours too: sent to every live call after a reconnect, it makes a call that waits for an event (the end of a
playback or a recording) ask ARI at once whether that already happened while the WebSocket was down.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr_engine.ari.errors import AriProtocolError
from ivr_engine.channel import DtmfKey

__all__ = [
    "UNREAD_EVENTS",
    "AriEvent",
    "BridgeDestroyed",
    "BridgeSnapshot",
    "ChannelDestroyed",
    "ChannelDtmfReceived",
    "ChannelEnteredBridge",
    "ChannelHangupRequest",
    "ChannelLeftBridge",
    "ChannelSnapshot",
    "ChannelVanished",
    "Dial",
    "PlaybackFinished",
    "PlaybackSnapshot",
    "Recheck",
    "RecordingFailed",
    "RecordingFinished",
    "RecordingSnapshot",
    "RecordingStarted",
    "StasisEnd",
    "StasisStart",
    "UnknownEvent",
    "event_type",
    "parse_event",
]


@dataclass(frozen=True)
class ChannelSnapshot:
    """A channel as ARI describes it at the time of the event."""

    id: str
    name: str = ""
    state: str = ""
    caller_number: str = ""
    caller_name: str = ""
    exten: str = ""
    context: str = ""
    language: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChannelSnapshot:
        caller = _mapping(data.get("caller"))
        dialplan = _mapping(data.get("dialplan"))
        return cls(
            id=_required_str(data, "id", "channel"),
            name=str(data.get("name", "")),
            state=str(data.get("state", "")),
            caller_number=str(caller.get("number", "")),
            caller_name=str(caller.get("name", "")),
            exten=str(dialplan.get("exten", "")),
            context=str(dialplan.get("context", "")),
            language=str(data.get("language", "")),
        )


@dataclass(frozen=True)
class BridgeSnapshot:
    id: str
    bridge_type: str = ""
    channels: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BridgeSnapshot:
        return cls(
            id=_required_str(data, "id", "bridge"),
            bridge_type=str(data.get("bridge_type", "")),
            channels=tuple(str(c) for c in data.get("channels", ()) or ()),
        )


@dataclass(frozen=True)
class PlaybackSnapshot:
    id: str
    media_uri: str = ""
    target_uri: str = ""
    state: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlaybackSnapshot:
        return cls(
            id=_required_str(data, "id", "playback"),
            media_uri=str(data.get("media_uri", "")),
            target_uri=str(data.get("target_uri", "")),
            state=str(data.get("state", "")),
        )


@dataclass(frozen=True)
class RecordingSnapshot:
    name: str
    format: str = ""
    target_uri: str = ""
    state: str = ""
    duration: float | None = None
    cause: str = ""
    talking_duration: float | None = None
    """Seconds of speech Asterisk detected; only when recorded with ``maxSilenceSeconds``."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RecordingSnapshot:
        duration = data.get("duration")
        talking = data.get("talking_duration")
        return cls(
            name=_required_str(data, "name", "recording"),
            format=str(data.get("format", "")),
            target_uri=str(data.get("target_uri", "")),
            state=str(data.get("state", "")),
            duration=float(duration) if isinstance(duration, int | float) else None,
            cause=str(data.get("cause", "")),
            talking_duration=float(talking) if isinstance(talking, int | float) else None,
        )


@dataclass(frozen=True)
class StasisStart:
    channel: ChannelSnapshot
    args: tuple[str, ...] = ()
    timestamp: str = ""


@dataclass(frozen=True)
class StasisEnd:
    channel: ChannelSnapshot
    timestamp: str = ""


@dataclass(frozen=True)
class ChannelDtmfReceived:
    channel: ChannelSnapshot
    digit: DtmfKey
    duration_ms: int = 0
    timestamp: str = ""


@dataclass(frozen=True)
class ChannelHangupRequest:
    channel: ChannelSnapshot
    cause: int | None = None
    soft: bool = False
    timestamp: str = ""


@dataclass(frozen=True)
class ChannelDestroyed:
    channel: ChannelSnapshot
    cause: int | None = None
    cause_txt: str = ""
    timestamp: str = ""


@dataclass(frozen=True)
class PlaybackFinished:
    playback: PlaybackSnapshot
    timestamp: str = ""


@dataclass(frozen=True)
class RecordingStarted:
    recording: RecordingSnapshot
    timestamp: str = ""


@dataclass(frozen=True)
class RecordingFinished:
    recording: RecordingSnapshot
    timestamp: str = ""


@dataclass(frozen=True)
class RecordingFailed:
    recording: RecordingSnapshot
    timestamp: str = ""


@dataclass(frozen=True)
class Dial:
    """Progress of a dial: ``peer`` is the channel being dialled (ours when we originate)."""

    peer: ChannelSnapshot
    caller: ChannelSnapshot | None = None
    dialstatus: str = ""
    dialstring: str = ""
    timestamp: str = ""


@dataclass(frozen=True)
class ChannelEnteredBridge:
    bridge: BridgeSnapshot
    channel: ChannelSnapshot
    timestamp: str = ""


@dataclass(frozen=True)
class ChannelLeftBridge:
    bridge: BridgeSnapshot
    channel: ChannelSnapshot
    timestamp: str = ""


@dataclass(frozen=True)
class BridgeDestroyed:
    bridge: BridgeSnapshot
    timestamp: str = ""


@dataclass(frozen=True)
class ChannelVanished:
    """Synthetic: the resync found the call's channel gone from Asterisk (e.g. after a restart)."""

    channel_id: str
    timestamp: str = ""


@dataclass(frozen=True)
class Recheck:
    """Synthetic: events may have been lost (the WebSocket reconnected); re-verify what you wait for."""

    channel_id: str
    timestamp: str = ""


@dataclass(frozen=True)
class UnknownEvent:
    """Any event type we do not model; kept raw for logging."""

    type: str
    raw: Mapping[str, Any] = field(default_factory=dict)
    timestamp: str = ""


AriEvent = (
    StasisStart
    | StasisEnd
    | ChannelDtmfReceived
    | ChannelHangupRequest
    | ChannelDestroyed
    | PlaybackFinished
    | RecordingStarted
    | RecordingFinished
    | RecordingFailed
    | Dial
    | ChannelEnteredBridge
    | ChannelLeftBridge
    | BridgeDestroyed
    | ChannelVanished
    | Recheck
    | UnknownEvent
)


UNREAD_EVENTS = frozenset({
    "PlaybackStarted",  # 30% of an IVR call's events; a playback is waited for by its PlaybackFinished
    "PlaybackContinuing",  # a playback of several media moving to the next: 9%
    "ChannelStateChange",  # ringing, answered: no part of the service waits for a channel's state
    "ChannelVarset",
    "ChannelDialplan",
    "ChannelCallerId",
    "ChannelConnectedLine",
    "ChannelTalkingStarted",
    "ChannelTalkingFinished",
    "ChannelUserevent",
    "ChannelHold",
    "ChannelUnhold",
})
"""Event types Asterisk may send our app that no part of the service reads (none is parsed here): the
service asks Asterisk not to send them (``AriClient.filter_events``), which spares both sides encoding,
sending, decoding and logging them."""


def event_type(event: AriEvent) -> str:
    """ARI's name for the event (``StasisStart``...), or the raw type of an ``UnknownEvent``."""
    return event.type if isinstance(event, UnknownEvent) else type(event).__name__


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _required_str(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise AriProtocolError(f"ARI {what} without {key!r}: {dict(data)!r:.200}")
    return value


def _sub(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise AriProtocolError(f"ARI event {data.get('type')!r} without {key!r}")
    return value


def _channel(data: Mapping[str, Any]) -> ChannelSnapshot:
    return ChannelSnapshot.from_json(_sub(data, "channel"))


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dtmf(data: Mapping[str, Any]) -> ChannelDtmfReceived:
    digit = str(data.get("digit", ""))
    try:
        key = DtmfKey(digit.upper())
    except ValueError:
        raise AriProtocolError(f"ARI ChannelDtmfReceived with digit {digit!r}") from None
    return ChannelDtmfReceived(_channel(data), key, int(data.get("duration_ms", 0) or 0), _ts(data))


def _dial(data: Mapping[str, Any]) -> Dial:
    caller = data.get("caller")
    return Dial(
        peer=ChannelSnapshot.from_json(_sub(data, "peer")),
        caller=ChannelSnapshot.from_json(caller) if isinstance(caller, Mapping) else None,
        dialstatus=str(data.get("dialstatus", "")),
        dialstring=str(data.get("dialstring", "")),
        timestamp=_ts(data),
    )


def _ts(data: Mapping[str, Any]) -> str:
    return str(data.get("timestamp", ""))


_PARSERS: dict[str, Callable[[Mapping[str, Any]], AriEvent]] = {
    "StasisStart": lambda d: StasisStart(_channel(d), tuple(str(a) for a in d.get("args", ()) or ()), _ts(d)),
    "StasisEnd": lambda d: StasisEnd(_channel(d), _ts(d)),
    "ChannelDtmfReceived": _dtmf,
    "ChannelHangupRequest": lambda d: ChannelHangupRequest(
        _channel(d), _int_or_none(d.get("cause")), bool(d.get("soft", False)), _ts(d)
    ),
    "ChannelDestroyed": lambda d: ChannelDestroyed(
        _channel(d), _int_or_none(d.get("cause")), str(d.get("cause_txt", "")), _ts(d)
    ),
    "PlaybackFinished": lambda d: PlaybackFinished(PlaybackSnapshot.from_json(_sub(d, "playback")), _ts(d)),
    "RecordingStarted": lambda d: RecordingStarted(RecordingSnapshot.from_json(_sub(d, "recording")), _ts(d)),
    "RecordingFinished": lambda d: RecordingFinished(
        RecordingSnapshot.from_json(_sub(d, "recording")), _ts(d)
    ),
    "RecordingFailed": lambda d: RecordingFailed(RecordingSnapshot.from_json(_sub(d, "recording")), _ts(d)),
    "Dial": _dial,
    "ChannelEnteredBridge": lambda d: ChannelEnteredBridge(
        BridgeSnapshot.from_json(_sub(d, "bridge")), _channel(d), _ts(d)
    ),
    "ChannelLeftBridge": lambda d: ChannelLeftBridge(
        BridgeSnapshot.from_json(_sub(d, "bridge")), _channel(d), _ts(d)
    ),
    "BridgeDestroyed": lambda d: BridgeDestroyed(BridgeSnapshot.from_json(_sub(d, "bridge")), _ts(d)),
}


def parse_event(data: Any) -> AriEvent:
    """One decoded ARI event message -> its typed event; raises AriProtocolError if malformed."""
    if not isinstance(data, Mapping) or not isinstance(data.get("type"), str):
        raise AriProtocolError(f"ARI event without a type: {data!r:.200}")
    parser = _PARSERS.get(data["type"])
    if parser is None:
        return UnknownEvent(data["type"], dict(data), _ts(data))
    return parser(data)
