"""A recorded queue on the real lab: Asterisk (``--no-serve``) with our own in-process service whose
number 100 transfers straight to a ``general`` queue with ``record: true``. The caller sends a 440 Hz
tone, the agent's SIPp phone a 1000 Hz tone; the kept recording (the bridge's mix) must hold both."""

from __future__ import annotations

import asyncio
import json
import math
import stat
import struct
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import acd
from acd.live import AcdRuntime, RuntimeOptions
from acd.live.recording import SavedRecording
from ivr_engine.ari.client import AriClient, AriConfig
from ivr_engine.ari.media import default_resolver
from ivr_engine.ari.stream import EventStream
from ivr_engine.calls import CallInfo
from ivr_engine.channel import Channel
from ivr_engine.flow.ports import TransferRequest
from ivr_engine.lab.agent_phone import AgentBehaviour, start_agent_phone
from ivr_engine.lab.pcmu import write_talk_audio, write_tone_pcap
from ivr_engine.lab.render import agent_phones
from ivr_engine.lab.sipp import AudioCue, CallerScript
from ivr_engine.service.app import IvrService, ServiceOptions

from .conftest import Lab, until

pytestmark = pytest.mark.lab

CALLER_HZ = 440.0
AGENT_HZ = 1000.0
QUIET_HZ = (700.0, 1500.0)
"""Frequencies neither party sends: the floor both tones must stand far above."""


@dataclass
class Saved:
    recordings: list[SavedRecording] = field(default_factory=list)

    async def recording_saved(self, recording: SavedRecording) -> bool:
        self.recordings.append(recording)
        return True


@dataclass
class Live:
    runtime: AcdRuntime
    saved: Saved
    kept: Path


@pytest.fixture
async def live(asterisk_only: Lab, tmp_path: Path) -> AsyncIterator[Live]:
    config = acd.load_acd_config(asterisk_only.settings.agents_file)
    queue = acd.Queue("general", {"general": 1}, ring_timeout=5, max_wait=30, record=True)
    client = AriClient.open(AriConfig.from_settings(asterisk_only.settings))
    saved, kept = Saved(), tmp_path / "call-recordings"
    options = RuntimeOptions(tick_seconds=0.2, recording_spool=asterisk_only.settings.recordings_dir,
                             recordings_dir=kept)
    runtime = AcdRuntime(acd.Acd([queue], agents=config.agents), client, options=options, recordings=saved)

    async def caller(channel: Channel, call: CallInfo) -> None:
        await channel.answer()
        request = TransferRequest(call.call_id, call.caller, "general", {}, 0, {})
        await runtime.transfer(channel, request)

    resolver = default_resolver(asterisk_only.settings.sounds_dir)
    service = IvrService(client, resolver, handlers={"100": caller},
                         originated_hook=runtime.originated_hook, event_tap=runtime.on_ari_event,
                         options=ServiceOptions(orphan_grace=0.1))
    stream = EventStream(client.config, client.session, on_event=service.on_event,
                         on_connected=service.on_connected)
    tasks = [asyncio.create_task(stream.run()), asyncio.create_task(runtime.run())]
    await asyncio.sleep(0.5)
    try:
        yield Live(runtime, saved, kept)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await service.shutdown()
        runtime.close()
        await client.close()


def _samples(path: Path) -> list[int]:
    with wave.open(str(path), "rb") as audio:
        assert (audio.getnchannels(), audio.getsampwidth()) == (1, 2), "expected 16-bit mono"
        frames = audio.readframes(audio.getnframes())
    return list(struct.unpack(f"<{len(frames) // 2}h", frames))


def goertzel(samples: list[int], hertz: float, rate: int = 8000) -> float:
    """Power of ``hertz`` in ``samples`` (one Goertzel filter over the whole signal), per sample."""
    coeff = 2 * math.cos(2 * math.pi * hertz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / max(1, len(samples))


async def test_recorded_queue_keeps_one_private_file_with_both_parties(
    asterisk_only: Lab, live: Live, tmp_path: Path
) -> None:
    port = next(a.port for a in agent_phones(asterisk_only.settings) if a.id == "1003")
    agent_voice = write_talk_audio(tmp_path / "agent-1000hz.wav", seconds=8, hertz=AGENT_HZ)
    phone = await start_agent_phone(asterisk_only.settings, port, behaviour=AgentBehaviour(
        ring_ms=300, hangup_after_s=5, talk_audio=agent_voice))
    try:
        await until(lambda: asterisk_only.ari_json("/endpoints/PJSIP/1003")["state"] == "online", 40,
                    "agent 1003's phone to come online")
        await live.runtime.login("1003")
        tone = write_tone_pcap(tmp_path / "caller-440hz.pcap", seconds=12, hertz=CALLER_HZ)
        result = await asterisk_only.call(CallerScript(
            number="100", caller_id="5550401", initial_wait_ms=200,
            audio=(AudioCue(before_key=0, pcap=tone, seconds=14),), timeout_s=40))
        assert result.answered == 1, result.describe()
        assert phone.answered_calls() == 1
        await until(lambda: live.saved.recordings, 15, "the recording to be kept")
    finally:
        await phone.stop()

    (saved,) = live.saved.recordings
    assert (saved.agent_id, saved.queue) == ("1003", "general")
    assert saved.path.parent == live.kept
    assert saved.path.is_file()
    assert stat.S_IMODE(saved.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(live.kept.stat().st_mode) == 0o700
    assert not (asterisk_only.settings.recordings_dir / f"callrec-{saved.call_id}.wav").exists()
    assert 3.0 <= saved.duration <= 8.0, saved.duration  # the agent hung up 5 s after answering

    samples = _samples(saved.path)
    floor = max(goertzel(samples, hz) for hz in QUIET_HZ)
    caller_power, agent_power = goertzel(samples, CALLER_HZ), goertzel(samples, AGENT_HZ)
    assert caller_power > 20 * floor, f"caller's tone missing: {caller_power:.0f} vs floor {floor:.0f}"
    assert agent_power > 20 * floor, f"agent's tone missing: {agent_power:.0f} vs floor {floor:.0f}"
    channels, bridges = await asterisk_only.leftovers()
    assert (channels, bridges) == ([], [])


async def test_served_billing_call_hears_the_notice_and_its_recording_is_listed(lab: Lab) -> None:
    """Through ``ivr serve`` and the shipped flows: Alice checks her balance (101) and presses 0; the
    shipped ``billing`` queue records, so she hears the recording notice before being queued, agent 1001
    answers, and once the call is over ``ivr calls show`` lists the kept, owner-only recording."""
    from .test_acd_flows import agents, phone

    before = lab.full_log_size()
    digits = "100200#4321#0"
    pauses = (600,) * 11 + (9000, 600)  # the balance is said before the menu that takes the 0
    async with phone(lab, "1001", AgentBehaviour(ring_ms=300, hangup_after_s=3)):
        with agents(lab, "1001"):
            result = await lab.call(CallerScript(
                number="101", caller_id="15550001001", digits=digits, pauses_ms=pauses, initial_wait_ms=2500,
                hangup_after_s=13, timeout_s=90))  # on the survey by then
    assert result.answered == 1, result.describe()
    played = [p.stem for p in lab.played_since(before)]
    assert "recording_notice" in played, " ".join(played)
    assert played.index("recording_notice") < played.index("transfer_agent"), played

    def recording() -> list[dict[str, object]]:
        calls = json.loads(lab.ivr("calls", "list", "--json", "--limit", "5").stdout)
        call_id = next(c["call_id"] for c in calls if c["caller"] == "15550001001" and c["dialled"] == "101")
        shown = lab.ivr("calls", "show", call_id, "--json")
        assert shown.returncode == 0, shown.stdout
        return list(json.loads(shown.stdout)["recordings"])

    (kept,) = await until(recording, 20, "the recording to be listed by ivr calls show")
    assert (kept["agent_id"], kept["queue"]) == ("1001", "billing")
    path = Path(str(kept["file"]))
    assert path.parent == lab.settings.state_dir.resolve() / "call-recordings"
    assert _mode(path) == 0o600
    assert float(str(kept["duration"])) >= 2.0


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)
