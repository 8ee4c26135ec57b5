"""The hand-runnable SIPp scenarios kept in ``sip-lab/scenarios/<name>/scenario.xml``.

They are rendered from the same templates as the test callers; ``ivr lab scenarios`` rewrites them and a
unit test checks the committed files match. Each caller folder carries its restamped DTMF pcaps (see
``ivr_engine.lab.dtmf_pcap``), named relative to the folder: run SIPp from inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ivr_engine.lab.agent_phone import AgentBehaviour, render_agent_scenario
from ivr_engine.lab.sipp import SCENARIOS_DIR, CallerScript, render_caller_scenario, restamped_dtmf

__all__ = ["READY_MADE", "ReadyMade", "write_ready_made"]


@dataclass(frozen=True)
class ReadyMade:
    name: str
    summary: str
    usage: str
    script: CallerScript | None  # None: an agent phone doing ``agent``
    agent: AgentBehaviour = field(default_factory=AgentBehaviour)

    def pcap_names(self) -> list[str]:
        """The DTMF captures the scenario plays, relative to its folder."""
        if self.script is None:
            return []
        return [f"dtmf_{i:02d}_{step.pcap_name}.pcap" for i, step in enumerate(self.script.steps())]

    def render(self) -> str:
        if self.script is None:
            return render_agent_scenario(behaviour=self.agent)
        return render_caller_scenario(self.script, [Path(name) for name in self.pcap_names()])


READY_MADE: tuple[ReadyMade, ...] = (
    ReadyMade(
        "caller-digits",
        "Dials the service number, sends 1234# as RFC 4733 DTMF, waits for the app's BYE.",
        "sipp 127.0.0.1:5060 -sf scenario.xml -s 100 -m 1 -i 127.0.0.1 -p 5070 -mp 6000",
        CallerScript(number="[service]", caller_id="5550100", digits="1234#"),
    ),
    ReadyMade(
        "caller-hangup",
        "Dials the service number, presses nothing, hangs up after 5 s (abandon / no-input path).",
        "sipp 127.0.0.1:5060 -sf scenario.xml -s 100 -m 1 -i 127.0.0.1 -p 5070 -mp 6000",
        CallerScript(number="[service]", caller_id="5550101", initial_wait_ms=0, hangup_after_s=5),
    ),
    ReadyMade(
        "caller-load",
        "Load: callers to the service number pressing 0# (to an agent); pair with agent-phone.",
        "sipp 127.0.0.1:5060 -sf scenario.xml -s 100 -r 2 -l 20 -m 100 -i 127.0.0.1 -p 5070 -mp 6000",
        CallerScript(number="[service]", caller_id="5550102", digits="0#", hangup_after_s=30),
    ),
    ReadyMade(
        "agent-phone",
        "Agent phone: answers qualify OPTIONS and each INVITE after 500 ms, waits for the BYE.",
        "sipp -sf scenario.xml -i 127.0.0.1 -p 5081 -mp 6100   # agent 1001 (1002: 5082, 1003: 5083)",
        None,
    ),
    ReadyMade(
        "agent-hangup",
        "Agent phone: answers after 500 ms and hangs up first 10 s later (the caller goes on to the survey).",
        "sipp -sf scenario.xml -i 127.0.0.1 -p 5083 -mp 6100   # agent 1003 (1001: 5081, 1002: 5082)",
        None,
        AgentBehaviour(hangup_after_s=10),
    ),
    ReadyMade(
        "agent-no-answer",
        "Agent phone that rings and never answers: the ACD pauses the agent and tries the next one.",
        "sipp -sf scenario.xml -i 127.0.0.1 -p 5081 -mp 6100   # agent 1001 (1002: 5082, 1003: 5083)",
        None,
        AgentBehaviour(answers=False),
    ),
)


def write_ready_made(scenarios_dir: Path = SCENARIOS_DIR) -> list[Path]:
    """(Re)write every ready-made scenario, its DTMF pcaps and its README line."""
    written = []
    for scenario in READY_MADE:
        folder = scenarios_dir / scenario.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scenario.xml").write_text(scenario.render())
        if scenario.script is not None:
            for name, data in restamped_dtmf(scenario.script.steps()):
                (folder / name).write_bytes(data)
        (folder / "README").write_text(f"{scenario.summary}\n    {scenario.usage}\n")
        written.append(folder / "scenario.xml")
    return written
