"""Supervisors listening in, on the real lab: Asterisk (``--no-serve``) with our own in-process service
whose number 100 transfers straight to ``general``. Three SIP phones, each with an ear of ours that
speaks its own tone: the caller 440 Hz, agent 1002 1000 Hz, the supervisor (PJSIP/1001's phone) 1700 Hz.
Each mode is one session (the supervisor's phone hangs up after a few seconds); what every phone heard
while the supervisor was connected tells who hears whom:

- listen: the supervisor hears caller and agent; neither hears the supervisor;
- whisper: the supervisor hears both; the agent hears the supervisor, the caller does not;
- barge: everyone hears everyone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import acd
from acd.live import AcdRuntime, RuntimeOptions
from acd.live.monitor import MonitorMode
from ivr_engine.ari.client import AriClient, AriConfig
from ivr_engine.ari.media import default_resolver
from ivr_engine.ari.stream import EventStream
from ivr_engine.calls import CallInfo
from ivr_engine.channel import Channel
from ivr_engine.flow.ports import TransferRequest
from ivr_engine.lab.agent_phone import AgentBehaviour, AgentPhone, start_agent_phone
from ivr_engine.lab.render import agent_phones
from ivr_engine.lab.sipp import CallerScript, render_caller_scenario, run_scenario_file
from ivr_engine.service.app import IvrService, ServiceOptions

from .conftest import Lab, until
from .tone_ear import ToneEar

pytestmark = pytest.mark.lab

CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ = 440.0, 1000.0, 1700.0
SESSION_S = 4.0
"""How long the supervisor's phone stays on each session."""


@dataclass
class Live:
    runtime: AcdRuntime
    client: AriClient


@pytest.fixture
async def live(asterisk_only: Lab) -> AsyncIterator[Live]:
    config = acd.load_acd_config(asterisk_only.settings.agents_file)
    queue = acd.Queue("general", {"general": 1}, ring_timeout=5, max_wait=30)
    client = AriClient.open(AriConfig.from_settings(asterisk_only.settings))
    options = RuntimeOptions(tick_seconds=0.2)
    runtime = AcdRuntime(acd.Acd([queue], agents=config.agents), client, options=options)

    async def caller(channel: Channel, call: CallInfo) -> None:
        await channel.answer()
        await runtime.transfer(channel, TransferRequest(call.call_id, call.caller, "general", {}, 0, {}))

    resolver = default_resolver(asterisk_only.settings.sounds_dir)
    service = IvrService(client, resolver, handlers={"100": caller}, originated_hook=runtime.originated_hook,
                         event_tap=runtime.on_ari_event, options=ServiceOptions(orphan_grace=0.1))
    stream = EventStream(client.config, client.session, on_event=service.on_event,
                         on_connected=service.on_connected)
    tasks = [asyncio.create_task(stream.run()), asyncio.create_task(runtime.run())]
    await asyncio.sleep(0.5)
    try:
        yield Live(runtime, client)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await service.shutdown()
        runtime.close()
        await client.close()


async def _phone(lab: Lab, agent_id: str, behaviour: AgentBehaviour) -> AgentPhone:
    port = next(a.port for a in agent_phones(lab.settings) if a.id == agent_id)
    phone = await start_agent_phone(lab.settings, port, behaviour=behaviour)
    await until(lambda: lab.ari_json(f"/endpoints/PJSIP/{agent_id}")["state"] == "online", 40,
                f"PJSIP/{agent_id}'s phone to come online")
    return phone


def _bridge(lab: Lab, prefix: str, members: int) -> dict[str, object] | None:
    return next((b for b in lab.ari_json("/bridges")
                 if b["id"].startswith(prefix) and len(b["channels"]) >= members), None)


@dataclass(frozen=True)
class Heard:
    """Who heard which tone while the supervisor was connected: each tone's power against the loudest
    of the three in that phone's ear (1.0 for the loudest)."""

    caller: dict[float, float]
    agent: dict[float, float]
    supervisor: dict[float, float]


async def _session(lab: Lab, live: Live, mode: MonitorMode, ears: dict[str, ToneEar]) -> Heard:
    session = await live.runtime.monitor("1002", "PJSIP/1001", mode)
    joined = f"acd-{session.call_id}" if mode is MonitorMode.BARGE else session.bridge_id
    await until(lambda: _bridge(lab, joined, 3 if mode is MonitorMode.BARGE else 2), 15,
                f"the supervisor to join ({mode.value})")
    start = time.monotonic() + 0.8  # the supervisor's first packets and the mix settle
    await asyncio.sleep(0.8 + 2.0)
    end = time.monotonic()
    await until(lambda: all(s.id != session.id for s in live.runtime.monitor_sessions()), 15,
                f"the {mode.value} session to end when the supervisor hangs up")

    def ratios(ear: ToneEar) -> dict[float, float]:
        powers = {hz: ear.power(hz, start, end) for hz in (CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ)}
        loudest = max(powers.values())
        assert loudest > 1e6, f"the {mode.value} window is silent: {powers}"  # the ear heard something
        return {hz: power / loudest for hz, power in powers.items()}

    return Heard(ratios(ears["caller"]), ratios(ears["agent"]), ratios(ears["supervisor"]))


HEARS = 0.01
"""A tone with at least this share of the loudest tone's power is heard (a mix of two equal tones: ~1)..."""
SILENT = 1e-4
"""...and one under this share is not (measured: below 1e-20 where no path exists)."""


async def test_listen_whisper_and_barge_reach_exactly_the_right_phones(
    asterisk_only: Lab, live: Live, tmp_path: Path
) -> None:
    ears = {"caller": ToneEar(CALLER_HZ), "agent": ToneEar(AGENT_HZ), "supervisor": ToneEar(SUPERVISOR_HZ)}
    ports = {name: await ear.open() for name, ear in ears.items()}
    agent = await _phone(asterisk_only, "1002", AgentBehaviour(ring_ms=200, sdp_port=ports["agent"]))
    supervisor = await _phone(asterisk_only, "1001", AgentBehaviour(ring_ms=200, hangup_after_s=SESSION_S,
                                                                    sdp_port=ports["supervisor"]))
    try:
        await live.runtime.login("1002")
        scenario = tmp_path / "caller.xml"
        scenario.write_text(render_caller_scenario(
            CallerScript(number="100", caller_id="5550501", initial_wait_ms=200, hangup_after_s=40,
                         timeout_s=60), [], sdp_port=ports["caller"]))
        call = asyncio.create_task(run_scenario_file(asterisk_only.settings, scenario, 60))
        await until(lambda: _bridge(asterisk_only, "acd-", 2), 20, "caller and agent to be bridged")
        heard = {mode: await _session(asterisk_only, live, mode, ears) for mode in MonitorMode}
        bridged = _bridge(asterisk_only, "acd-", 2)
        assert bridged is not None
        await live.client.hangup(str(bridged["id"]).removeprefix("acd-"))  # the caller's channel id
        result = await call
        assert result.answered == 1, result.describe()
    finally:
        await supervisor.stop()
        await agent.stop()
        for ear in ears.values():
            await ear.close()

    listen, whisper, barge = heard[MonitorMode.LISTEN], heard[MonitorMode.WHISPER], heard[MonitorMode.BARGE]
    # The caller and the agent hear each other throughout (the ears work).
    for h in (listen, whisper, barge):
        assert h.caller[AGENT_HZ] > HEARS, h
        assert h.agent[CALLER_HZ] > HEARS, h
    # listen: the supervisor hears both, nobody hears the supervisor.
    assert listen.supervisor[CALLER_HZ] > HEARS, listen
    assert listen.supervisor[AGENT_HZ] > HEARS, listen
    assert listen.caller[SUPERVISOR_HZ] < SILENT, listen
    assert listen.agent[SUPERVISOR_HZ] < SILENT, listen
    # whisper: the supervisor hears both; the agent hears the supervisor, the caller does not.
    assert whisper.supervisor[CALLER_HZ] > HEARS, whisper
    assert whisper.supervisor[AGENT_HZ] > HEARS, whisper
    assert whisper.agent[SUPERVISOR_HZ] > HEARS, whisper
    assert whisper.caller[SUPERVISOR_HZ] < SILENT, whisper
    # barge: everyone hears everyone.
    assert barge.supervisor[CALLER_HZ] > HEARS, barge
    assert barge.supervisor[AGENT_HZ] > HEARS, barge
    assert barge.agent[SUPERVISOR_HZ] > HEARS, barge
    assert barge.caller[SUPERVISOR_HZ] > HEARS, barge
    channels, bridges = await asterisk_only.leftovers()
    assert (channels, bridges) == ([], [])
