"""Parsing ARI event JSON into typed events."""

from __future__ import annotations

import pytest

from ivr_engine.ari.dispatch import channel_of
from ivr_engine.ari.errors import AriProtocolError
from ivr_engine.ari.events import (
    UNREAD_EVENTS,
    BridgeDestroyed,
    ChannelDtmfReceived,
    Dial,
    PlaybackFinished,
    RecordingFinished,
    StasisStart,
    UnknownEvent,
    event_type,
    parse_event,
)
from ivr_engine.channel import DtmfKey

CHANNEL = {"id": "1700.1", "name": "PJSIP/anonymous-01", "state": "Ring",
           "caller": {"name": "Ann", "number": "13800001111"},
           "dialplan": {"context": "ivr", "exten": "100", "priority": 2}}


def test_stasis_start_has_args_and_caller() -> None:
    event = parse_event({"type": "StasisStart", "args": ["100", "x"], "channel": CHANNEL,
                         "timestamp": "t"})
    assert isinstance(event, StasisStart)
    assert event.args == ("100", "x")
    assert event.channel.caller_number == "13800001111"
    assert event.channel.exten == "100"
    assert channel_of(event) == "1700.1"


def test_dtmf_digit_is_a_key() -> None:
    event = parse_event({"type": "ChannelDtmfReceived", "digit": "#", "duration_ms": 120, "channel": CHANNEL})
    assert isinstance(event, ChannelDtmfReceived)
    assert event.digit is DtmfKey.POUND
    assert event.duration_ms == 120


def test_playback_and_recording_route_by_target() -> None:
    playback = parse_event({"type": "PlaybackFinished", "playback": {
        "id": "pb1", "media_uri": "sound:x", "target_uri": "channel:1700.1", "state": "done"}})
    recording = parse_event({"type": "RecordingFinished", "recording": {
        "name": "vm1", "format": "wav", "target_uri": "channel:1700.2", "state": "done", "duration": 4}})
    assert isinstance(playback, PlaybackFinished)
    assert channel_of(playback) == "1700.1"
    assert isinstance(recording, RecordingFinished)
    assert recording.recording.duration == 4.0
    assert channel_of(recording) == "1700.2"


def test_dial_routes_to_peer_and_bridge_events_to_nobody() -> None:
    dial = parse_event({"type": "Dial", "peer": {"id": "agent-1"}, "dialstatus": "ANSWER"})
    assert isinstance(dial, Dial)
    assert channel_of(dial) == "agent-1"
    destroyed = parse_event({"type": "BridgeDestroyed", "bridge": {"id": "b1", "channels": []}})
    assert isinstance(destroyed, BridgeDestroyed)
    assert channel_of(destroyed) is None


def test_unknown_types_are_kept_raw() -> None:
    event = parse_event({"type": "ChannelVarset", "variable": "X", "channel": CHANNEL})
    assert isinstance(event, UnknownEvent)
    assert event_type(event) == "ChannelVarset"
    assert channel_of(event) == "1700.1"


@pytest.mark.parametrize("kind", sorted(UNREAD_EVENTS))
def test_the_events_asterisk_is_asked_to_keep_are_read_by_nothing(kind: str) -> None:
    """No parser: no part of the service acts on them (a type parsed here must not be filtered)."""
    event = parse_event({"type": kind, "channel": CHANNEL, "playback": {"id": "p1"}})
    assert isinstance(event, UnknownEvent)
    assert event_type(event) == kind


@pytest.mark.parametrize(
    "data",
    [
        {"no": "type"},
        {"type": "StasisStart"},
        {"type": "StasisStart", "channel": {"name": "no id"}},
        {"type": "ChannelDtmfReceived", "digit": "Z", "channel": CHANNEL},
        ["not", "a", "mapping"],
    ],
)
def test_malformed_events_raise_protocol_error(data: object) -> None:
    with pytest.raises(AriProtocolError):
        parse_event(data)
