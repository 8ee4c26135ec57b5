"""SIPp agent phones (UAS) for the lab and its tests: what a phone does with an INVITE, its scenario, and
the running phone on one loopback port.

The scenario is rendered from ``sip-lab/scenarios/agent.xml.j2``; each phone gets its own run folder
(scenario, statistics, logs) under the lab's ``sipp`` folder, as callers do (``ivr_engine.lab.sipp``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from ivr_engine.config import Settings
from ivr_engine.lab.errors import SippError
from ivr_engine.lab.ports import free_udp_port, udp_free
from ivr_engine.lab.sipp import (
    SCENARIOS_DIR,
    SippResult,
    read_result,
    read_scenario_log,
    run_folder,
    scenario_environment,
    sipp_command,
    spawn_sipp,
)

__all__ = ["AgentBehaviour", "AgentPhone", "render_agent_scenario", "start_agent_phone"]


@dataclass(frozen=True)
class AgentBehaviour:
    """What an agent phone does with each INVITE.

    ``answers=False`` rings until the caller (Asterisk) cancels. Otherwise it answers after ``ring_ms``,
    streams ``talk_audio`` (a PCMU .wav, see ``write_talk_audio``) as its voice if given, and hangs up
    itself ``hangup_after_s`` after answering (``None``: waits for the far end's BYE). ``sdp_port``
    offers another RTP port than SIPp's own: a listener of ours hears (and speaks for) the phone there.
    """

    ring_ms: int = 500
    answers: bool = True
    hangup_after_s: float | None = None
    talk_audio: Path | None = None
    sdp_port: int | None = None


def render_agent_scenario(
    ring_ms: int = 500, scenarios_dir: Path = SCENARIOS_DIR, behaviour: AgentBehaviour | None = None
) -> str:
    """The agent phone's scenario XML (by default: answers after ``ring_ms``, waits for the BYE)."""
    act = behaviour or AgentBehaviour(ring_ms=ring_ms)
    hangup_ms = None if act.hangup_after_s is None else round(act.hangup_after_s * 1000)
    return (
        scenario_environment(scenarios_dir)
        .get_template("agent.xml.j2")
        .render(
            ring_ms=act.ring_ms,
            answers=act.answers,
            hangup_after_ms=hangup_ms,
            talk_audio=None if act.talk_audio is None else str(act.talk_audio),
            sdp_port=act.sdp_port,
        )
    )


class AgentPhone:
    """A running SIPp agent phone (UAS) on one loopback port; ``stop`` ends it and reports."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int, run_dir: Path) -> None:
        self.port = port
        self.run_dir = run_dir
        self._proc = proc

    @property
    def running(self) -> bool:
        return self._proc.returncode is None

    def answered_calls(self) -> int:
        """Calls this phone has answered so far (from its scenario log)."""
        return read_scenario_log(self.run_dir).count("answered")

    def log_lines(self) -> list[str]:
        """The scenario's log so far ("answered", "ringing", "cancelled", "agent-bye", ...)."""
        return read_scenario_log(self.run_dir)

    async def stop(self) -> SippResult:
        if self._proc.returncode is None:
            self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), 5)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        return read_result(self._proc.returncode or 0, self.run_dir)


async def start_agent_phone(
    settings: Settings, port: int, ring_ms: int = 500, behaviour: AgentBehaviour | None = None
) -> AgentPhone:
    """Start an agent phone on ``settings.sip_host:port`` (e.g. agent 1001's port); by default it
    answers after ``ring_ms`` and waits for the BYE."""
    run_dir = run_folder(settings, f"agent-{port}")
    scenario = run_dir / "scenario.xml"
    scenario.write_text(render_agent_scenario(ring_ms, behaviour=behaviour))
    cmd = sipp_command(
        scenario, run_dir, settings.sip_host, port, free_udp_port(settings.sip_host),
        target=None, calls=None, timeout_s=None,
    )  # fmt: skip
    proc = await spawn_sipp(cmd, run_dir, run_dir)
    for _ in range(20):
        await asyncio.sleep(0.1)
        if proc.returncode is not None:
            raise SippError(f"the agent phone on port {port} exited at once: see {run_dir}/stdout.log")
        if not udp_free(settings.sip_host, port):
            break
    return AgentPhone(proc, port, run_dir)
