"""What the service writes about a call's keys: that a key came, never which (a PIN is keys too)."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ivr_engine.calls import CallInfo
from ivr_engine.channel import Channel, DtmfKey, Prompt
from tests.masking import keys_listed, shows_value

if TYPE_CHECKING:
    from ivr_engine.ari.events import AriEvent

    from .conftest import Running


async def test_keys_are_counted_in_the_logs_but_their_values_never_written(
    start_service: object, caplog: pytest.LogCaptureFixture
) -> None:
    collected: list[str] = []

    async def pin_entry(channel: Channel, call: CallInfo) -> None:
        await channel.answer()
        entry = await channel.collect(prompt=[Prompt("hello-world", "Hello world.")], max_digits=8,
                                      terminator=DtmfKey.POUND, first_timeout=5.0, inter_timeout=5.0)
        collected.append(entry.text)
        await channel.hangup()

    previous = os.umask(0)  # the events file's 0600 must come from its creation, not from the umask
    try:
        running: Running = await start_service({"101": pin_entry})  # type: ignore[operator]
    finally:
        os.umask(previous)
    caplog.set_level(logging.DEBUG, logger="ivr_engine")  # one line per event is debug detail
    await running.fake.incoming("c1", "101", caller="15550001001")
    await running.until(lambda: bool(running.fake.calls("POST", "/channels/c1/play/")))
    await running.fake.dtmf("c1", "4321#")
    await running.until(lambda: "c1" not in running.fake.channels)
    await running.service.wait_idle()

    assert collected == ["4321"]  # the keys did reach the call
    log_lines = [r.getMessage() for r in caplog.records if "ChannelDtmfReceived" in r.getMessage()]
    assert len(log_lines) == 5
    assert all(line == "call.event type=ChannelDtmfReceived channel=c1" for line in log_lines)
    events_text = running.events_file.read_text()
    keyed = [json.loads(line) for line in events_text.splitlines() if "ChannelDtmfReceived" in line]
    assert [(e["type"], e["channel"]) for e in keyed] == [("ChannelDtmfReceived", "c1")] * 5
    assert all("digit" not in e for e in keyed)
    for text in (caplog.text, events_text):
        assert keys_listed(text) == ""
        assert not shows_value(text, "4321")
    assert stat.S_IMODE(running.events_file.stat().st_mode) == 0o600


def test_event_log_lines_rotate_by_size_and_every_file_stays_private(tmp_path: Path) -> None:
    from ivr_engine.ari.events import parse_event
    from ivr_engine.logfiles import Rotation
    from ivr_engine.service.eventlog import EventLog, read_events

    channel = {"id": "c1", "name": "PJSIP/x", "state": "Up", "caller": {"number": "1"},
               "dialplan": {"exten": "100", "context": "ivr-inbound"}}  # fmt: skip
    event = parse_event({"type": "StasisStart", "channel": channel, "args": ["100"]})
    path = tmp_path / "events.jsonl"
    log = EventLog(path, Rotation(max_bytes=300, backups=2))
    previous = os.umask(0)
    try:
        log.open()
        for _ in range(12):
            log.append(event)
    finally:
        log.close()
        os.umask(previous)
    files = [path, path.with_name("events.jsonl.1"), path.with_name("events.jsonl.2")]
    assert all(f.exists() and f.stat().st_size <= 300 for f in files)
    assert not path.with_name("events.jsonl.3").exists()
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    kept = [e for f in reversed(files) for e in read_events(f)]
    assert 6 <= len(kept) < 12  # the oldest went with the dropped backup
    assert {(e["type"], e["channel"], tuple(e["args"])) for e in kept} == {("StasisStart", "c1", ("100",))}


def _stasis_start(channel_id: str) -> AriEvent:
    from ivr_engine.ari.events import parse_event

    channel = {"id": channel_id, "name": "PJSIP/x", "state": "Up", "caller": {"number": "1"},
               "dialplan": {"exten": "100", "context": "ivr-inbound"}}  # fmt: skip
    return parse_event({"type": "StasisStart", "channel": channel, "args": ["100"]})


async def test_event_log_batches_lines_in_a_loop_and_writes_them_on_flush_timer_size_and_close(
    tmp_path: Path,
) -> None:
    import asyncio

    from ivr_engine.ari.events import parse_event
    from ivr_engine.service.eventlog import EventLog, read_events

    path = tmp_path / "events.jsonl"
    log = EventLog(path, flush_interval=3600, flush_bytes=10_000)
    log.open()
    log.append(_stasis_start("c1"))
    log.append(_stasis_start("c2"))
    assert read_events(path) == []  # waiting for the timer
    log.flush()
    assert [e["channel"] for e in read_events(path)] == ["c1", "c2"]
    for n in range(200):  # about 100 bytes a line: the size bound writes before the timer
        log.append(_stasis_start(f"d{n}"))
    assert 2 < len(read_events(path)) < 202
    log.close()  # writes the rest
    assert [e["channel"] for e in read_events(path)] == ["c1", "c2", *(f"d{n}" for n in range(200))]

    ended = EventLog(tmp_path / "ended.jsonl", flush_interval=3600)
    ended.open()
    ended.append(_stasis_start("e1"))
    ended.append(parse_event({"type": "StasisEnd", "channel": {"id": "e1"}}))  # the channel's last event
    assert [e["type"] for e in read_events(ended.path)] == ["StasisStart", "StasisEnd"]
    ended.close()

    timed = EventLog(tmp_path / "timed.jsonl", flush_interval=0.01)
    timed.open()
    timed.append(_stasis_start("t1"))
    async with asyncio.timeout(5):
        while not read_events(timed.path):  # noqa: ASYNC110 - polling a file the timer writes
            await asyncio.sleep(0.01)
    assert [e["channel"] for e in read_events(timed.path)] == ["t1"]
    timed.close()


def test_event_log_writes_each_line_at_once_outside_an_event_loop(tmp_path: Path) -> None:
    from ivr_engine.service.eventlog import EventLog, read_events

    log = EventLog(tmp_path / "events.jsonl", flush_interval=3600)
    log.open()
    log.append(_stasis_start("c1"))
    assert [e["channel"] for e in read_events(log.path)] == ["c1"]
    log.close()
