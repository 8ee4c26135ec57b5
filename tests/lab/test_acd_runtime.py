"""The live ACD on the real lab: Asterisk (``--no-serve``) with our own in-process service whose number
100 transfers straight to the ``general`` queue, and SIPp agent phones answering on their AOR ports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

import acd
from acd.live import AcdRuntime, RuntimeOptions
from ivr_engine.ari.client import AriClient, AriConfig
from ivr_engine.ari.media import default_resolver
from ivr_engine.ari.stream import EventStream
from ivr_engine.calls import CallInfo
from ivr_engine.channel import CallerHungUp, Channel
from ivr_engine.flow.ports import TransferRequest
from ivr_engine.lab.sipp import CallerScript
from ivr_engine.service.app import IvrService, ServiceOptions

from .conftest import Lab, until

pytestmark = pytest.mark.lab


@dataclass
class Live:
    runtime: AcdRuntime
    outcomes: dict[str, str]


@pytest.fixture
async def live(asterisk_only: Lab) -> AsyncIterator[Live]:
    config = acd.load_acd_config(asterisk_only.settings.agents_file)
    queue = acd.Queue("general", {"general": 1}, ring_timeout=3, max_wait=30, wrap_up_seconds=30)
    client = AriClient.open(AriConfig.from_settings(asterisk_only.settings))
    runtime = AcdRuntime(acd.Acd([queue], agents=config.agents), client,
                         options=RuntimeOptions(tick_seconds=0.2))
    outcomes: dict[str, str] = {}

    async def caller(channel: Channel, call: CallInfo) -> None:
        await channel.answer()
        request = TransferRequest(call.call_id, call.caller, "general", {}, 0, {})
        try:
            outcomes[call.call_id] = (await runtime.transfer(channel, request)).value
        except CallerHungUp:
            outcomes[call.call_id] = "hangup"
            raise

    resolver = default_resolver(asterisk_only.settings.sounds_dir)
    service = IvrService(client, resolver, handlers={"100": caller},
                         originated_hook=runtime.originated_hook, event_tap=runtime.on_ari_event,
                         options=ServiceOptions(orphan_grace=0.1))
    stream = EventStream(client.config, client.session, on_event=service.on_event,
                         on_connected=service.on_connected)
    tasks = [asyncio.create_task(stream.run()), asyncio.create_task(runtime.run())]
    await asyncio.sleep(0.5)
    try:
        yield Live(runtime, outcomes)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await service.shutdown()
        runtime.close()
        await client.close()



async def _online(lab: Lab, agent_id: str, timeout_s: float = 40) -> None:
    """A phone is offered calls once Asterisk's qualify has seen it (as a real phone registers first)."""
    for _ in range(int(timeout_s * 4)):
        if lab.ari_json(f"/endpoints/PJSIP/{agent_id}")["state"] == "online":
            return
        await asyncio.sleep(0.25)
    pytest.fail(f"endpoint PJSIP/{agent_id} never came online")


async def _bridged(lab: Lab, timeout_s: float = 15) -> dict[str, object] | None:
    for _ in range(int(timeout_s * 4)):
        for bridge in lab.ari_json("/bridges"):
            if bridge["id"].startswith("acd-") and len(bridge["channels"]) == 2:
                return dict(bridge)
        await asyncio.sleep(0.25)
    return None


async def test_agent_answers_and_both_legs_are_bridged_then_nothing_leaks(
    asterisk_only: Lab, live: Live
) -> None:
    phone = await asterisk_only.agent_phone("1003")
    await _online(asterisk_only, "1003")
    await live.runtime.login("1003")
    try:
        call = asyncio.create_task(asterisk_only.call(
            CallerScript(number="100", caller_id="5550301", hangup_after_s=6, timeout_s=40)))
        bridge = await _bridged(asterisk_only)
        assert bridge is not None, "caller and agent were never bridged"
        assert bridge["bridge_type"] == "mixing"
        states = {asterisk_only.ari_json(f"/channels/{c}")["state"] for c in bridge["channels"]}  # type: ignore[attr-defined]
        assert states == {"Up"}
        result = await call
        assert result.answered == 1, result.describe()
        assert phone.answered_calls() == 1
    finally:
        await phone.stop()
    channels, bridges = await asterisk_only.leftovers()
    assert channels == []
    assert bridges == []
    # The bridge goes before the runtime ends the call, so ARI can be clear a moment before wrap-up.
    await until(lambda: live.runtime.engine.agent("1003").state is acd.AgentState.WRAP_UP, 10,
                "agent 1003 to go into wrap-up")  # fmt: skip
    # The engine runs in its worker thread: the caller's transfer may end a moment after the agent's state.
    await until(lambda: live.outcomes, 10, "the caller's transfer to end")
    assert list(live.outcomes.values()) == ["hangup"]


async def test_agent_without_phone_times_out_and_next_agent_answers(asterisk_only: Lab, live: Live) -> None:
    phone = await asterisk_only.agent_phone("1002")
    await _online(asterisk_only, "1002")
    await live.runtime.login("1001")  # no phone listening: rings into the void
    await live.runtime.login("1002")
    try:
        call = asyncio.create_task(asterisk_only.call(
            CallerScript(number="100", caller_id="5550302", hangup_after_s=8, timeout_s=40)))
        bridge = await _bridged(asterisk_only, timeout_s=20)
        assert bridge is not None, "the second agent was never bridged"
        first = live.runtime.engine.agent("1001")
        assert first.state is acd.AgentState.PAUSED
        assert first.pause_reason == acd.NO_ANSWER
        assert live.runtime.engine.agent("1002").state is acd.AgentState.ON_CALL
        await call
    finally:
        await phone.stop()
    channels, bridges = await asterisk_only.leftovers()
    assert channels == []
    assert bridges == []
