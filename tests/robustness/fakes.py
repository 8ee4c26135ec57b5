"""In-memory ports for running the shipped flows on a scripted caller (robustness tests only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ivr_engine.channel import Recording
from ivr_engine.flow.interpreter import MAX_STEPS
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.ports import LookupResult, LookupStatus, NodeEntry, NodeEvent
from ivr_engine.flow.services import BusyTransferrer, FlowServices
from ivr_engine.flow.simulator import ScriptedChannel, SimClock, Simulation, parse_script, simulate

__all__ = ["INPUT_NODES", "MAX_STEPS", "Memory", "run_script"]

FLOWS = Path(__file__).parents[2] / "flows"
LIBRARY = FlowLibrary.from_paths([FLOWS])
INPUT_NODES = frozenset({"menu", "gather", "survey", "record"})
# A Wednesday, 11:00 in New York: agent.yaml's hours node says open.
OPEN_HOURS = datetime(2026, 6, 3, 15, 0, tzinfo=UTC)


@dataclass
class Memory:
    """Lookups over a couple of rows and sinks that keep what they were given."""

    events: list[NodeEvent] = field(default_factory=list)
    lookups: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    answers: list[tuple[str, str, int]] = field(default_factory=list)
    voicemails: list[str] = field(default_factory=list)

    def names(self) -> frozenset[str]:
        return frozenset({"customer_by_phone", "account_auth", "order_status", "member_points"})

    async def run(self, name: str, params: Mapping[str, str]) -> LookupResult:
        self.lookups.append((name, dict(params)))
        if (name, dict(params)) == ("account_auth", {"account": "100200", "pin": "4321"}):
            return LookupResult(LookupStatus.FOUND, {"account": "100200", "balance": "1234.56"})
        return LookupResult(LookupStatus.NOT_FOUND)

    def entered(self, entry: NodeEntry) -> None:
        return None

    def record(self, event: NodeEvent) -> None:
        self.events.append(event)

    async def flush(self, *, urgent: bool = True) -> None:
        return None

    async def save_answer(
        self, *, call_id: str, survey: str, question: str, score: int, agent_id: str | None
    ) -> None:
        self.answers.append((survey, question, score))

    async def save_voicemail(self, *, call_id: str, caller: str, mailbox: str, recording: Recording) -> None:
        self.voicemails.append(mailbox)

    def has(self, prompt_id: str, lang: str) -> bool:
        return False

    def text(self, prompt_id: str, lang: str) -> str:
        return ""

    def path(self) -> list[tuple[str, str, str]]:
        """(flow, node, outcome) in the order the nodes were entered."""
        return [(e.flow, e.node, e.outcome) for e in sorted(self.events, key=lambda e: e.seq)]


async def run_script(
    flow: str, script: str, *, caller: str = "15550001001", memory: Memory | None = None
) -> tuple[Simulation, Memory, ScriptedChannel]:
    """Run a shipped flow with a digit script (``T`` = no input) through the real interpreter."""
    memory = memory or Memory()
    clock = SimClock(OPEN_HOURS)
    channel = ScriptedChannel(parse_script(script), caller_id=caller, dialled="100", clock=clock)
    services = FlowServices(
        lookups=memory,
        node_log=memory,
        surveys=memory,
        voicemails=memory,
        catalogue=memory,
        flows=LIBRARY,
        transferrer=BusyTransferrer(),
        clock=clock,
    )
    found = LIBRARY.get(flow)
    assert found is not None, flow
    return await simulate(found, channel, services, call_id="robust-1"), memory, channel
