"""In-memory stand-ins for the flow ports (tests only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ivr_engine.channel import Channel, Recording
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.model import Flow
from ivr_engine.flow.ports import (
    LookupResult,
    LookupStatus,
    NodeEntry,
    NodeEvent,
    TransferOutcome,
    TransferRequest,
)
from ivr_engine.flow.services import FlowServices
from ivr_engine.flow.simulator import ScriptedChannel, SimClock, Simulation, parse_script, simulate

ALICE = {"customer_id": "1", "customer_name": "Alice Chen", "vip": "1"}


@dataclass
class FakeLookups:
    """The four named lookups over a few fixed rows; ``broken`` makes every query an error."""

    broken: bool = False
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def names(self) -> frozenset[str]:
        return frozenset({"customer_by_phone", "account_auth", "order_status", "member_points"})

    async def run(self, name: str, params: Mapping[str, str]) -> LookupResult:
        self.calls.append((name, dict(params)))
        if self.broken:
            return LookupResult(LookupStatus.ERROR, error="database down")
        rows: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {
            ("customer_by_phone", ("15550001001",)): ALICE,
            ("account_auth", ("100200", "4321")): {"account": "100200", "balance": "1234.56"},
            ("order_status", ("A1001",)): {"order_status": "shipped", "expected_delivery": "2026-12-01"},
            ("member_points", ("88001234",)): {"points": "4520", "member_name": "Alice Chen"},
        }
        found = rows.get((name, tuple(params.values())))
        return LookupResult(LookupStatus.FOUND, found) if found else LookupResult(LookupStatus.NOT_FOUND)


@dataclass
class ListSink:
    events: list[NodeEvent] = field(default_factory=list)
    flushed: int = 0

    entries: list[NodeEntry] = field(default_factory=list)

    def entered(self, entry: NodeEntry) -> None:
        self.entries.append(entry)

    def record(self, event: NodeEvent) -> None:
        self.events.append(event)

    async def flush(self, *, urgent: bool = True) -> None:
        self.flushed += 1

    def path(self) -> list[tuple[str, str]]:
        return [(e.node, e.outcome) for e in sorted(self.events, key=lambda e: e.seq)]


@dataclass
class FakeSurveys:
    answers: list[tuple[str, str, str, int, str | None]] = field(default_factory=list)

    async def save_answer(
        self, *, call_id: str, survey: str, question: str, score: int, agent_id: str | None
    ) -> None:
        self.answers.append((call_id, survey, question, score, agent_id))


@dataclass
class FakeVoicemails:
    saved: list[tuple[str, str, str, Recording]] = field(default_factory=list)

    async def save_voicemail(self, *, call_id: str, caller: str, mailbox: str, recording: Recording) -> None:
        self.saved.append((call_id, caller, mailbox, recording))


@dataclass
class FakeTransferrer:
    outcome: TransferOutcome = TransferOutcome.NO_AGENTS
    requests: list[TransferRequest] = field(default_factory=list)

    agent: str | None = None

    async def transfer(self, channel: Channel, request: TransferRequest) -> TransferOutcome:
        self.requests.append(request)
        return self.outcome

    def agent_of(self, call_id: str) -> str | None:
        return self.agent if self.outcome is TransferOutcome.COMPLETED else None


@dataclass
class FakeCatalogue:
    texts: dict[str, str] = field(default_factory=dict)

    def has(self, prompt_id: str, lang: str) -> bool:
        return lang == "en" and prompt_id in self.texts

    def text(self, prompt_id: str, lang: str) -> str:
        return self.texts[prompt_id]

    def ids(self, lang: str) -> list[str]:
        return list(self.texts) if lang == "en" else []

    def wav_path(self, prompt_id: str, lang: str) -> Path:
        return Path("/nonexistent") / lang / f"{prompt_id}.wav"


@dataclass
class Harness:
    """Everything one simulated call touches, ready to inspect."""

    lookups: FakeLookups = field(default_factory=FakeLookups)
    sink: ListSink = field(default_factory=ListSink)
    surveys: FakeSurveys = field(default_factory=FakeSurveys)
    voicemails: FakeVoicemails = field(default_factory=FakeVoicemails)
    transferrer: FakeTransferrer = field(default_factory=FakeTransferrer)
    catalogue: FakeCatalogue = field(default_factory=FakeCatalogue)
    clock: SimClock = field(default_factory=lambda: SimClock(datetime(2026, 6, 3, 15, 0, tzinfo=UTC)))
    flows: list[Flow] = field(default_factory=list)

    def services(self) -> FlowServices:
        return FlowServices(
            lookups=self.lookups,
            node_log=self.sink,
            surveys=self.surveys,
            voicemails=self.voicemails,
            catalogue=self.catalogue,
            flows=FlowLibrary(self.flows),
            transferrer=self.transferrer,
            clock=self.clock,
        )

    async def run(self, flow: Flow, digits: str = "", *, caller: str = "15550001001") -> Simulation:
        channel = ScriptedChannel(parse_script(digits), caller_id=caller, dialled="100", clock=self.clock)
        return await simulate(flow, channel, self.services(), call_id="call-1")

    def said(self, sim: Simulation) -> list[str]:
        return [e.text for e in sim.transcript if e.kind.value == "said"]
