"""DTMF-to-command latency from the service log (pure).

``ivr serve`` logs a ``call.event`` line as each ARI event reaches its dispatcher and an ``ari.request``
line as each REST command is sent, both by the same process. Each line carries ``t=``, the process's
monotonic clock in seconds with microseconds, read when the event arrived and when the command left
(logs without it fall back to logging's millisecond timestamps). A sample is the time from a
``ChannelDtmfReceived`` on a channel to the next command for that channel, counted only when no other
event for the channel came in between (so the command answers the key, not a playback ending or a timer);
keys inside an entry that draw no command are not samples. Commands on ``/playbacks/ID`` belong to the
channel that started that playback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ivr_engine.logs import parse_fields

__all__ = ["MAX_SAMPLE_MS", "LogLine", "dtmf_to_command_ms", "parse_log_line"]

MAX_SAMPLE_MS = 2000.0
"""A longer gap is a timer firing after a key (e.g. an inter-digit timeout), not a reply to it."""

_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ \S+ (call\.event|ari\.request) (.*)$")
_CHANNEL_PATH = re.compile(r"^/channels/([^/]+)(?:/(play)/([^/]+))?")
_PLAYBACK_PATH = re.compile(r"^/playbacks/([^/]+)")


@dataclass(frozen=True)
class LogLine:
    """An event dispatched (``is_request`` False) or a command sent, for one channel."""

    at_s: float
    """Seconds on one clock: the monotonic ``t=`` when the line has it, else the log timestamp."""
    is_request: bool
    channel: str
    monotonic: bool = True
    event_type: str = ""
    playback: str = ""


def parse_log_line(line: str, playback_owner: dict[str, str]) -> LogLine | None:
    """The event or command a serve log line records (None for other lines or unknown targets).

    ``playback_owner`` is updated with playbacks started by ``POST /channels/C/play/P``.
    """
    match = _LINE.match(line)
    if match is None:
        return None
    values = parse_fields(match.group(3))
    at, monotonic = _seconds(values.get("t"), match.group(1))
    if match.group(2) == "call.event":
        channel = values.get("channel", "-")
        if channel == "-":
            return None
        return LogLine(
            at_s=at, monotonic=monotonic, is_request=False, channel=channel, event_type=values.get("type", "")
        )
    path = values.get("path", "")
    on_channel = _CHANNEL_PATH.match(path)
    if on_channel is not None:
        channel, playback = on_channel.group(1), on_channel.group(3) or ""
        if playback:
            playback_owner[playback] = channel
        return LogLine(at_s=at, monotonic=monotonic, is_request=True, channel=channel, playback=playback)
    on_playback = _PLAYBACK_PATH.match(path)
    if on_playback is not None and on_playback.group(1) in playback_owner:
        return LogLine(
            at_s=at, monotonic=monotonic, is_request=True, channel=playback_owner[on_playback.group(1)]
        )
    return None


def _seconds(monotonic: str | None, stamp: str) -> tuple[float, bool]:
    """The line's time in seconds, and whether it is the monotonic ``t=`` (else the log timestamp)."""
    if monotonic is not None:
        try:
            return float(monotonic), True
        except ValueError:
            pass
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp(), False


def dtmf_to_command_ms(lines: Iterable[str], max_sample_ms: float = MAX_SAMPLE_MS) -> list[float]:
    """Milliseconds (to the microsecond) from each answered DTMF event to the command that answered it.

    In log order; a key and a command are paired only when both carry the same kind of time.
    """
    owners: dict[str, str] = {}
    pending: dict[str, LogLine] = {}
    samples: list[float] = []
    for raw in lines:
        line = parse_log_line(raw, owners)
        if line is None:
            continue
        if not line.is_request:
            if line.event_type == "ChannelDtmfReceived":
                pending[line.channel] = line
            else:
                pending.pop(line.channel, None)
            continue
        key = pending.pop(line.channel, None)
        if key is not None and key.monotonic == line.monotonic:
            elapsed = round((line.at_s - key.at_s) * 1000, 3)
            if elapsed <= max_sample_ms:
                samples.append(elapsed)
    return samples
