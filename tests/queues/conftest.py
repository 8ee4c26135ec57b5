from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import acd
from acd.live import AcdRuntime, RuntimeOptions
from acd.live.dialer import CallbackBook
from acd.live.hold import QUEUE_CALLBACK_CONFIRMED, QUEUE_CALLBACK_OFFER, QUEUE_HOLD, HoldOptions
from acd.sql_store import SqlStore
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.fake import FakeAri
from ivr_engine.ari.media import default_resolver
from ivr_engine.ari.stream import Backoff, EventStream
from ivr_engine.calls import CallInfo
from ivr_engine.channel import CallerHungUp, Channel
from ivr_engine.flow.ports import TransferOutcome, TransferRequest
from ivr_engine.service.app import IvrService, ServiceOptions
from tests.queues.hold_timeline import timeline

CORE_SOUNDS = ("queue-thereare", "queue-holdtime", "queue-minute", "queue-minutes")
QUEUE_PROMPTS = (QUEUE_HOLD, QUEUE_CALLBACK_OFFER, QUEUE_CALLBACK_CONFIRMED)
"""Catalogue prompts the hold loop plays, "built" (empty wavs) into the resolver's sounds folder."""
FAST_HOLD = HoldOptions(music_seconds=0.2)
"""Short stretches of music so the hold loop turns quickly under test."""


@dataclass
class Facts:
    """A list-backed AcdFactSink."""

    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [kw for name, kw in self.rows if name == kind]

    async def _add(self, kind: str, kw: dict[str, Any]) -> bool:
        self.rows.append((kind, kw))
        return True

    async def register_agents(self, agents: Any) -> bool:
        return await self._add("agents", {"agents": list(agents)})

    async def record_state_change(self, **kw: Any) -> bool:
        return await self._add("state", kw)

    async def queue_call_enqueued(self, **kw: Any) -> bool:
        return await self._add("enqueued", kw)

    async def queue_call_answered(self, **kw: Any) -> bool:
        return await self._add("answered", kw)

    async def queue_call_ended(self, **kw: Any) -> bool:
        return await self._add("ended", kw)

    async def callback_requested(self, **kw: Any) -> bool:
        return await self._add("callback", kw)

    async def wrap_up(self, **kw: Any) -> bool:
        return await self._add("wrap_up", kw)


AGENTS = (
    acd.Agent("1001", "Agent 1001", "PJSIP/1001", {"general": 5, "billing": 8}),
    acd.Agent("1002", "Agent 1002", "PJSIP/1002", {"general": 5}),
    acd.Agent("1003", "Agent 1003", "PJSIP/1003", {"general": 7}),
)


def general(**overrides: Any) -> acd.Queue:
    values: dict[str, Any] = {"name": "general", "skills": {"general": 1}, "ring_timeout": 0.4,
                              "max_wait": 30.0, "wrap_up_seconds": 0.0, "announce_interval": 30.0}
    values.update(overrides)
    return acd.Queue(**values)


@dataclass
class Lab:
    fake: FakeAri
    sounds: Path
    runtime: AcdRuntime
    service: IvrService
    facts: Facts
    outcomes: dict[str, str]

    async def until(self, condition: Callable[[], object], wait: float = 5.0) -> None:
        async with asyncio.timeout(wait):
            while not condition():  # noqa: ASYNC110 - polling state the runtime owns
                await asyncio.sleep(0.01)

    def legs(self, call_id: str) -> list[tuple[str, str]]:
        """(agent channel id, endpoint) of every originate for ``call_id``, in order."""
        return [(r.path.split("/")[2], r.params["endpoint"]) for r in self.fake.calls("POST", "/channels/")
                if r.params.get("appArgs") == f"agent,{call_id}"]

    async def agent_answers(self, leg_id: str, call_id: str) -> None:
        await self.fake.incoming(leg_id, "agent", call_id, caller="")

    def played(self, channel_id: str) -> list[str]:
        """The media of every playback started on ``channel_id``, in order (comma-joined URIs)."""
        return [str(r.params["media"]) for r in self.fake.calls("POST", f"/channels/{channel_id}/play/")]

    def timeline(self, channel_id: str) -> list[str]:
        return timeline(self.fake, channel_id)

    def state(self, agent_id: str) -> acd.AgentState:
        return self.runtime.engine.agent(agent_id).state


@pytest.fixture
async def start_lab(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """``await start_lab(**queue_settings)`` -> a Lab: fake ARI, a service whose number 100 transfers to
    the ``general`` queue, and the runtime ticking (hold music in stretches of ``hold.music_seconds``)."""
    cleanups: list[Callable[[], Any]] = []
    core = tmp_path / "core" / "en"
    core.mkdir(parents=True)
    for name in CORE_SOUNDS:
        (core / f"{name}.gsm").write_bytes(b"")
    built = tmp_path / "en"
    built.mkdir()
    for prompt in QUEUE_PROMPTS:
        (built / f"{prompt.id}.wav").write_bytes(b"")

    async def start(*, request_skills: dict[str, int] | None = None,
                    variables: dict[str, str] | None = None, hold: HoldOptions = FAST_HOLD,
                    store: acd.AcdStore | None = None, callbacks: CallbackBook | None = None,
                    options: dict[str, Any] | None = None, clock: Callable[[], float] = time.time,
                    recover: bool = False, **queue_settings: Any) -> Lab:
        queue = general(**queue_settings)
        fake = FakeAri(playback_seconds=0.05)
        await fake.start()
        client = AriClient.open(fake.config)
        facts = Facts()
        runtime = AcdRuntime(acd.Acd([queue], store=store, agents=AGENTS), client, facts=facts,
                             options=RuntimeOptions(tick_seconds=0.05, hold=hold, **(options or {})),
                             callbacks=callbacks, clock=clock, recover=recover)
        await runtime.start()
        outcomes: dict[str, str] = {}

        async def caller(channel: Channel, call: CallInfo) -> None:
            await channel.answer()
            request = TransferRequest(call.call_id, call.caller, queue.name, request_skills or {}, 0,
                                      variables or {})
            try:
                outcome: TransferOutcome = await runtime.transfer(channel, request)
            except CallerHungUp:
                outcomes[call.call_id] = "hangup"
                raise
            outcomes[call.call_id] = outcome.value

        service = IvrService(client, default_resolver(tmp_path, core_sounds_dir=tmp_path / "core"),
                             handlers={"100": caller}, originated_hook=runtime.originated_hook,
                             event_tap=runtime.on_ari_event,
                             resync_hook=runtime.resynced if recover else None,
                             hand_over_hook=runtime.hand_over if recover else None,
                             options=ServiceOptions(orphan_grace=0.05, apology_timeout=2))
        stream = EventStream(fake.config, client.session, on_event=service.on_event,
                             on_connected=service.on_connected, backoff=Backoff(0.01, 2, 0.05))
        reader = asyncio.create_task(stream.run())
        ticker = asyncio.create_task(runtime.run())
        await fake.connected()

        async def stop() -> None:
            for task in (reader, ticker):
                task.cancel()
            await asyncio.gather(reader, ticker, return_exceptions=True)
            await service.shutdown()
            runtime.close()
            if isinstance(store, SqlStore):  # the lab owns the store it was given: its connections go
                store.close()
            await client.close()
            await fake.close()

        cleanups.append(stop)
        return Lab(fake, tmp_path, runtime, service, facts, outcomes)

    yield start
    for cleanup in cleanups:
        await cleanup()
