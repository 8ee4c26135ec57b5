"""A restart of the service over the SQL store: the ACD's state as a killed service left it (agents,
waiting calls, an offer ringing, a bridged call) and the channels still in our app on Asterisk are
taken back by the new run, over the fake ARI.

The state "before" is built with the engine on the store (what ``kill -9`` leaves: nothing was
cleaned up) and the callers' channels are put into the fake as channels already in Stasis, with no
StasisStart: the new service's resync finds them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import acd
from acd.desk_ops import answer_consult, offer_consult
from acd.live import AcdRuntime, RuntimeOptions
from acd.live.bridge import bridge_of
from acd.live.consult import consult_bridge_of
from acd.live.legs import leg_channel_id
from acd.sql_store import SqlStore
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.fake import FakeAri
from ivr_engine.ari.media import default_resolver
from ivr_engine.ari.stream import Backoff, EventStream
from ivr_engine.config import Settings
from ivr_engine.service.app import APOLOGY, IvrService, ServiceOptions
from tests.queues.conftest import AGENTS, CORE_SOUNDS, FAST_HOLD, QUEUE_PROMPTS, general
from tests.queues.hold_timeline import MUSIC_ON, timeline

QUEUE = general(ring_timeout=30.0, max_wait=600.0)
BEFORE = 1_000.0
"""The ACD clock (epoch seconds) when the killed service made its last change."""
RESTART = BEFORE + 5.0


@dataclass
class Clock:
    now: float = RESTART

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store_url(migrated_settings: Settings) -> str:
    return migrated_settings.db_url


@pytest.fixture
def before(store_url: str) -> Iterator[acd.Acd]:
    """The engine of the run that is killed, on the service's database."""
    store = SqlStore(store_url)
    yield acd.Acd([QUEUE], store=store, agents=AGENTS)
    store.close()


@dataclass
class Served:
    fake: FakeAri
    runtime: AcdRuntime
    service: IvrService
    clock: Clock
    answered: list[tuple[str, str]] = field(default_factory=list)
    """(method, path) of every ARI request whose answer the runtime has had, in order; the fake's
    ``requests`` and state change before the answer reaches the runtime."""

    async def until(self, condition: Callable[[], object], wait: float = 5.0) -> None:
        async with asyncio.timeout(wait):
            while not condition():  # noqa: ASYNC110 - polling state the runtime owns
                await asyncio.sleep(0.01)

    def legs(self, call_id: str) -> list[tuple[str, str]]:
        return [(r.path.split("/")[2], r.params["endpoint"]) for r in self.fake.calls("POST", "/channels/")
                if r.params.get("appArgs") == f"agent,{call_id}"]

    def agent(self, agent_id: str) -> acd.Agent:
        return next(a for a in self.runtime.agents() if a.id == agent_id)


def _sounds(tmp_path: Path) -> Path:
    core = tmp_path / "core" / "en"
    core.mkdir(parents=True, exist_ok=True)
    for name in CORE_SOUNDS:
        (core / f"{name}.gsm").write_bytes(b"")
    built = tmp_path / "en"
    built.mkdir(exist_ok=True)
    for prompt in QUEUE_PROMPTS:
        (built / f"{prompt.id}.wav").write_bytes(b"")
    return tmp_path


@asynccontextmanager
async def restarted(fake: FakeAri, store_url: str, tmp_path: Path, *,
                    hand_over: bool = False) -> AsyncIterator[Served]:
    """A new service and runtime (recovering) on the same database, connecting to ``fake``; with
    ``hand_over``, its shutdown leaves the ACD's calls to the next run (as ``ivr serve`` on SIGTERM)."""
    store = SqlStore(store_url)
    clock = Clock()
    client = AriClient.open(fake.config)
    answered: list[tuple[str, str]] = []
    request = client.request

    async def answered_request(method: str, path: str, **kwargs: Any) -> Any:
        result = await request(method, path, **kwargs)
        answered.append((method, path))
        return result

    client.request = answered_request  # type: ignore[method-assign]
    runtime = AcdRuntime(acd.Acd([QUEUE], store=store, agents=AGENTS), client, clock=clock, recover=True,
                         options=RuntimeOptions(tick_seconds=0.05, hold=FAST_HOLD))
    await runtime.start()

    async def no_flow(*_: Any) -> None:
        raise AssertionError("no new call in these tests")

    sounds = _sounds(tmp_path)
    service = IvrService(client, default_resolver(sounds, core_sounds_dir=sounds / "core"),
                         handlers={"100": no_flow}, originated_hook=runtime.originated_hook,
                         event_tap=runtime.on_ari_event, resync_hook=runtime.resynced,
                         orphan_hook=runtime.adopt, hand_over_hook=runtime.hand_over if hand_over else None,
                         options=ServiceOptions(orphan_grace=0.05, apology_timeout=2))
    stream = EventStream(fake.config, client.session, on_event=service.on_event,
                         on_connected=service.on_connected, backoff=Backoff(0.01, 2, 0.05))
    reader = asyncio.create_task(stream.run())
    ticker = asyncio.create_task(runtime.run())
    try:
        yield Served(fake, runtime, service, clock, answered)
    finally:
        for task in (reader, ticker):
            task.cancel()
        await asyncio.gather(reader, ticker, return_exceptions=True)
        await service.shutdown()
        runtime.close()
        await client.close()
        store.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    started = FakeAri(playback_seconds=0.05)
    await started.start()
    yield started
    await started.close()


async def test_agents_keep_their_state_and_waiting_callers_hold_again_and_are_served_in_order(
    before: acd.Acd, fake: FakeAri, store_url: str, tmp_path: Path
) -> None:
    before.login("1001", BEFORE - 60)
    before.pause("1001", "coaching", BEFORE - 50)
    before.login("1002", BEFORE - 40, paused_reason="lunch")
    before.enqueue("c1", "5550001", "general", BEFORE - 20)
    before.enqueue("c2", "5550002", "general", BEFORE - 10)
    for call_id in ("c1", "c2"):
        fake.add_channel(call_id)  # still in Stasis: the killed service never hung them up

    async with restarted(fake, store_url, tmp_path) as served:
        await served.until(lambda: {"c1", "c2"} <= set(fake.moh), wait=2.0)  # music again within 2 s
        for call_id in ("c1", "c2"):  # music first: no announcement before it
            assert timeline(fake, call_id)[0] == MUSIC_ON, timeline(fake, call_id)
        assert (served.agent("1001").state, served.agent("1001").pause_reason) == (
            acd.AgentState.PAUSED, "coaching")
        assert (served.agent("1002").state, served.agent("1002").pause_reason) == (
            acd.AgentState.PAUSED, "lunch")
        assert served.agent("1002").state_since == BEFORE - 40  # the state was kept, not redone
        assert [c.id for c in served.runtime.waiting_calls()] == ["c1", "c2"]

        await served.runtime.ready("1002")
        await served.until(lambda: served.legs("c1"))
        assert served.legs("c2") == []  # the first caller in line is offered first
        leg = served.legs("c1")[0][0]
        await fake.incoming(leg, "agent", "c1", caller="")
        bridged = sorted(["c1", leg])
        await served.until(lambda: fake.bridges.get(bridge_of("c1"), {}).get("channels") == bridged)
        await served.runtime.ready("1001")
        await served.until(lambda: served.legs("c2"))
        assert served.legs("c2")[0][1] == "PJSIP/1001"
        assert "c1" not in fake.moh  # the music stopped before the bridge


async def test_a_ringing_offer_is_completed_after_the_restart(
    before: acd.Acd, fake: FakeAri, store_url: str, tmp_path: Path
) -> None:
    before.login("1003", BEFORE - 30)
    before.enqueue("c1", "5550001", "general", BEFORE - 2)
    offer = before.store.offer("1003")
    assert offer is not None
    fake.add_channel("c1")
    leg = leg_channel_id(offer)
    fake.add_channel(leg, caller="")  # the agent's phone still rings

    async with restarted(fake, store_url, tmp_path) as served:
        await served.until(lambda: "c1" in fake.moh, wait=2.0)
        assert served.agent("1003").state is acd.AgentState.RINGING
        assert leg in fake.channels  # neither hung up nor apologised to: the leg is not an orphan
        assert fake.calls("POST", f"/channels/{leg}/") == []
        await fake.incoming(leg, "agent", "c1", caller="")  # the agent answers
        await served.until(lambda: bridge_of("c1") in fake.bridges)
        await served.until(lambda: served.agent("1003").state is acd.AgentState.ON_CALL)
        assert served.runtime.agent_of("c1") == "1003"


async def test_an_offer_whose_caller_is_gone_frees_the_agent_and_hangs_up_the_leg(
    before: acd.Acd, fake: FakeAri, store_url: str, tmp_path: Path
) -> None:
    before.login("1003", BEFORE - 30)
    before.enqueue("gone", "5550001", "general", BEFORE - 2)
    offer = before.store.offer("1003")
    assert offer is not None
    leg = leg_channel_id(offer)
    fake.add_channel(leg, caller="")

    async with restarted(fake, store_url, tmp_path) as served:
        await served.until(lambda: leg not in fake.channels)
        await served.until(lambda: served.agent("1003").state is acd.AgentState.READY)
        assert served.runtime.waiting_calls() == []


async def test_an_offer_whose_leg_is_gone_is_offered_again(
    before: acd.Acd, fake: FakeAri, store_url: str, tmp_path: Path
) -> None:
    before.login("1003", BEFORE - 30)
    before.login("1002", BEFORE - 20, paused_reason="lunch")
    before.enqueue("c1", "5550001", "general", BEFORE - 2)
    fake.add_channel("c1")  # the leg died with the agent's answer while nobody was in the app

    async with restarted(fake, store_url, tmp_path) as served:
        await served.until(lambda: served.agent("1003").state is acd.AgentState.PAUSED)
        assert served.agent("1003").pause_reason == acd.NO_ANSWER
        await served.runtime.ready("1002")
        await served.until(lambda: served.legs("c1"))
        assert served.legs("c1")[0][1] == "PJSIP/1002"


async def test_a_bridged_call_is_left_bridged_and_its_end_ends_the_agents_call(
    before: acd.Acd, fake: FakeAri, store_url: str, tmp_path: Path
) -> None:
    before.login("1003", BEFORE - 30)
    before.enqueue("c1", "5550001", "general", BEFORE - 20)
    before.answer("1003", BEFORE - 15)
    fake.add_channel("c1")
    fake.add_channel("leg-1003", caller="")
    fake.bridges[bridge_of("c1")] = {"id": bridge_of("c1"), "bridge_type": "mixing",
                                     "channels": ["c1", "leg-1003"]}

    async with restarted(fake, store_url, tmp_path) as served:
        await asyncio.sleep(0.5)  # the resync (grace 0.05 s) is long done
        assert fake.bridges[bridge_of("c1")]["channels"] == ["c1", "leg-1003"]
        assert set(fake.channels) == {"c1", "leg-1003"}  # nobody apologised to or hung up
        assert served.agent("1003").state is acd.AgentState.ON_CALL
        await fake.caller_hangup("c1")
        await served.until(lambda: "leg-1003" not in fake.channels)  # the agent's leg hung up after
        await served.until(lambda: served.agent("1003").state is not acd.AgentState.ON_CALL)
        assert bridge_of("c1") not in fake.bridges


async def test_a_caller_on_hold_is_back_with_the_agent_after_the_restart(
    before: acd.Acd, fake: FakeAri, store_url: str, tmp_path: Path
) -> None:
    """The agent had the caller on hold (out of the bridge, music on hold) when the service was killed."""
    before.login("1003", BEFORE - 30)
    before.enqueue("c1", "5550001", "general", BEFORE - 20)
    before.answer("1003", BEFORE - 15)
    fake.add_channel("c1")
    fake.add_channel("leg-1003", caller="")
    fake.moh["c1"] = "default"
    fake.bridges[bridge_of("c1")] = {"id": bridge_of("c1"), "bridge_type": "mixing", "channels": ["leg-1003"]}

    async with restarted(fake, store_url, tmp_path) as served:
        await served.until(lambda: fake.bridges[bridge_of("c1")]["channels"] == ["c1", "leg-1003"])
        assert fake.moh == {}
        assert set(fake.channels) == {"c1", "leg-1003"}  # nobody apologised to or hung up
        await served.until(lambda: served.runtime.calls.live_call("c1") is not None)
        await served.runtime.calls.hold("1003", "c1")  # the desk's controls work on the adopted call
        assert fake.moh == {"c1": "default"}
        await fake.caller_hangup("c1")
        await served.until(lambda: served.agent("1003").state is not acd.AgentState.ON_CALL)


async def test_waiting_calls_whose_callers_are_gone_are_abandoned(
    before: acd.Acd, fake: FakeAri, store_url: str, tmp_path: Path
) -> None:
    before.login("1002", BEFORE - 40, paused_reason="lunch")
    before.enqueue("gone", "5550001", "general", BEFORE - 20)
    before.enqueue("here", "5550002", "general", BEFORE - 10)
    fake.add_channel("here")
    fake.add_channel("stray")  # in our app, but never the ACD's: the service's apology as before

    async with restarted(fake, store_url, tmp_path) as served:
        await served.until(lambda: "here" in fake.moh, wait=2.0)
        assert [c.id for c in served.runtime.waiting_calls()] == ["here"]
        await served.until(lambda: "stray" not in fake.channels)
        assert [r.params["media"] for r in fake.calls("POST", "/channels/stray/play/")] == [",".join(APOLOGY)]


async def test_a_caller_past_the_max_wait_while_the_service_was_down_overflows_and_is_let_go(
    before: acd.Acd, fake: FakeAri, store_url: str, tmp_path: Path
) -> None:
    before.login("1002", BEFORE - 900, paused_reason="lunch")
    before.enqueue("late", "5550001", "general", BEFORE - QUEUE.max_wait - 1)
    fake.add_channel("late")

    async with restarted(fake, store_url, tmp_path) as served:
        await served.until(lambda: "late" not in fake.channels)  # hung up, not left waiting forever
        assert served.runtime.waiting_calls() == []


async def test_a_stopped_service_leaves_its_acd_calls_to_the_next_run(
    before: acd.Acd, fake: FakeAri, store_url: str, tmp_path: Path
) -> None:
    """``ivr serve`` stopped (SIGTERM) with a caller waiting on music and another bridged to agent 1003:
    its shutdown hangs up neither, stops no music, keeps the bridge and the ACD's state (the caller
    queued, 1003 on the call), as ``kill -9`` would. The next run takes both calls back."""
    before.login("1002", BEFORE - 40, paused_reason="lunch")
    before.login("1003", BEFORE - 30)
    before.enqueue("talking", "5550001", "general", BEFORE - 20)
    before.answer("1003", BEFORE - 15)
    before.enqueue("waiting", "5550002", "general", BEFORE - 10)
    fake.add_channel("talking")
    fake.add_channel("leg-1003", caller="")
    fake.bridges[bridge_of("talking")] = {"id": bridge_of("talking"), "bridge_type": "mixing",
                                          "channels": ["talking", "leg-1003"]}
    fake.add_channel("waiting")

    async with restarted(fake, store_url, tmp_path, hand_over=True) as first:
        await first.until(lambda: "waiting" in fake.moh, wait=2.0)
        # on music for the runtime once it has the answer (a start still in flight is sent again at the stop)
        await first.until(lambda: ("POST", "/channels/waiting/moh") in first.answered)
        await first.until(lambda: first.runtime.calls.live_call("talking") is not None)
    assert set(fake.channels) == {"talking", "leg-1003", "waiting"}  # nobody hung up
    assert fake.bridges[bridge_of("talking")]["channels"] == ["talking", "leg-1003"]
    assert fake.moh == {"waiting": "default"}  # still on music
    assert fake.calls("DELETE", "/channels/waiting/moh") == []
    assert len(fake.calls("POST", "/channels/waiting/moh")) == 1  # not restarted from the top at the stop

    async with restarted(fake, store_url, tmp_path) as second:
        await second.until(lambda: second.runtime.calls.live_call("talking") is not None)
        assert [c.id for c in second.runtime.waiting_calls()] == ["waiting"]  # not abandoned
        assert second.agent("1003").state is acd.AgentState.ON_CALL
        assert second.agent("1002").pause_reason == "lunch"
        await fake.caller_hangup("talking")
        await second.until(lambda: "leg-1003" not in fake.channels)
        await second.until(lambda: second.agent("1003").state is not acd.AgentState.ON_CALL)
        await second.runtime.ready("1002")
        await second.until(lambda: second.legs("waiting"))  # the waiting caller is served


async def test_without_a_hand_over_a_stopped_service_ends_its_acd_calls(
    before: acd.Acd, fake: FakeAri, store_url: str, tmp_path: Path
) -> None:
    """The same stop without ``hand_over_hook`` (a service whose ACD no later run could take back): every
    channel is hung up and the waiting caller abandoned."""
    before.login("1002", BEFORE - 40, paused_reason="lunch")
    before.enqueue("waiting", "5550002", "general", BEFORE - 10)
    fake.add_channel("waiting")
    async with restarted(fake, store_url, tmp_path) as first:
        await first.until(lambda: "waiting" in fake.moh, wait=2.0)
    assert fake.channels == {}
    async with restarted(fake, store_url, tmp_path) as second:
        assert second.runtime.waiting_calls() == []


def _leg(fake: FakeAri, channel_id: str, endpoint: str) -> None:
    """An agent leg as Asterisk names it (``PJSIP/1003-0000002a``): recovery tells the agents apart by it."""
    fake.add_channel(channel_id, caller="")["name"] = f"{endpoint}-0000002a"


async def test_a_consult_under_way_is_over_and_the_caller_back_with_the_first_agent(
    before: acd.Acd, fake: FakeAri, store_url: str, tmp_path: Path
) -> None:
    """Agent 1003 was talking to 1002 (consult bridge) with the caller on hold when the service was
    killed: after the restart 1003 has the caller back, 1002's leg is hung up and 1002 is ready."""
    before.login("1003", BEFORE - 30)
    before.enqueue("c1", "5550001", "general", BEFORE - 20)
    before.answer("1003", BEFORE - 15)
    before.login("1002", BEFORE - 12)
    offer_consult(before, "c1", "general", "1002", "1003", BEFORE - 10)
    answer_consult(before, "1002", "c1", BEFORE - 8)
    fake.add_channel("c1")
    _leg(fake, "leg-1003", "PJSIP/1003")
    _leg(fake, "leg-1002", "PJSIP/1002")
    fake.moh["c1"] = "default"
    fake.bridges[bridge_of("c1")] = {"id": bridge_of("c1"), "bridge_type": "mixing", "channels": []}
    consult = consult_bridge_of("c1")
    fake.bridges[consult] = {"id": consult, "bridge_type": "mixing", "channels": ["leg-1002", "leg-1003"]}

    async with restarted(fake, store_url, tmp_path) as served:
        await served.until(lambda: fake.bridges[bridge_of("c1")]["channels"] == ["c1", "leg-1003"])
        await served.until(lambda: "leg-1002" not in fake.channels)
        await served.until(lambda: consult not in fake.bridges)
        assert fake.moh == {}
        await served.until(lambda: served.agent("1002").state is acd.AgentState.READY)
        assert served.agent("1003").state is acd.AgentState.ON_CALL
        await served.until(lambda: served.runtime.calls.live_call("c1") is not None)
        assert "c1" in fake.channels  # nobody apologised to the caller or hung up
        await fake.caller_hangup("c1")
        await served.until(lambda: served.agent("1003").state is not acd.AgentState.ON_CALL)


async def test_a_consult_still_ringing_is_over_and_the_caller_off_hold(
    before: acd.Acd, fake: FakeAri, store_url: str, tmp_path: Path
) -> None:
    before.login("1003", BEFORE - 30)
    before.enqueue("c1", "5550001", "general", BEFORE - 20)
    before.answer("1003", BEFORE - 15)
    before.login("1002", BEFORE - 12)
    events = offer_consult(before, "c1", "general", "1002", "1003", BEFORE - 2)
    ringing = leg_channel_id(next(e.offer for e in events if isinstance(e, acd.OfferMade)))
    fake.add_channel("c1")
    _leg(fake, "leg-1003", "PJSIP/1003")
    _leg(fake, ringing, "PJSIP/1002")
    fake.moh["c1"] = "default"
    fake.bridges[bridge_of("c1")] = {"id": bridge_of("c1"), "bridge_type": "mixing", "channels": ["leg-1003"]}

    async with restarted(fake, store_url, tmp_path) as served:
        await served.until(lambda: fake.bridges[bridge_of("c1")]["channels"] == ["c1", "leg-1003"])
        await served.until(lambda: ringing not in fake.channels)
        await served.until(lambda: served.agent("1002").state is acd.AgentState.READY)
        assert fake.moh == {}
        assert served.agent("1003").state is acd.AgentState.ON_CALL
