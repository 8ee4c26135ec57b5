"""The lab's agents while ``ivr flows test --live`` plays cases whose transfers need them.

``live_acd_file`` writes a copy of the lab's ACD configuration (setting ``agents_file``, by default the
project's acd.yaml) to ``<state folder>/live-acd.yaml``, with every queue's ``max_wait`` cut to at most
``max_wait_s``: the live run's ``ivr serve`` uses it, so an ``overflow`` case waits seconds on hold
instead of the production two minutes. Nothing else differs.

``lab_agents`` logs in, for the time of a block of cases, every agent of that configuration that has a
phone in the lab (endpoint ``PJSIP/100N``, phone on ``agent_base_port + N``, see ``lab.render``) through
the service's control API, as ``ivr agent login`` does:

- ``AgentNeed.READY``: each gets a SIPp phone (``sipp.start_agent_phone``) that answers after 300 ms,
  streams a tone as its voice and hangs up ``AGENT_TALK_S`` after answering; they stay ready, so every
  queued caller is answered (the caller then goes on in the flow, e.g. to the survey);
- ``AgentNeed.PAUSED``: logged in and paused, no phones: a caller is queued (the queue is staffed) and
  waits on hold until the callback key or the queue's ``max_wait``.

On the way out each agent is logged out again (a wrap-up still running is ended with ``ready``) and the
phones are stopped.
"""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.request
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from pathlib import Path

import yaml

import acd
from ivr_engine.config import ConfigError, Settings
from ivr_engine.control.client import ControlClient
from ivr_engine.control.errors import ControlError
from ivr_engine.lab.agent_phone import AgentBehaviour, AgentPhone, start_agent_phone
from ivr_engine.lab.errors import LabError
from ivr_engine.lab.live_plan import AgentNeed
from ivr_engine.lab.pcmu import write_talk_audio
from ivr_engine.lab.render import agent_phones
from ivr_engine.privatefiles import write_private

__all__ = ["AGENT_TALK_S", "LIVE_ACD_FILE", "lab_agent_count", "lab_agents", "live_acd_file", "logged_in"]

LIVE_ACD_FILE = "live-acd.yaml"
AGENT_TALK_S = 3.0  # an agent phone hangs up this long after answering
_PAUSE_REASON = "live-test"
_ONLINE_S = 30.0  # Asterisk qualifies a phone every 5 s (lab.render): it is online well before this


def live_acd_file(lab: Settings, max_wait_s: float) -> Path:
    """Write ``live-acd.yaml`` (see the module doc) and return its path; LabError if the lab's ACD
    configuration cannot be read."""
    try:
        config = acd.load_acd_config(lab.agents_file)
        raw = yaml.safe_load(lab.agents_file.read_text(encoding="utf-8"))
    except (acd.AcdConfigError, OSError, yaml.YAMLError) as exc:
        raise LabError(f"cannot read the lab's ACD configuration: {exc}") from None
    waits = {queue.name: queue.max_wait for queue in config.queues}
    for queue in raw.get("queues") or []:
        queue["max_wait"] = min(waits[str(queue["name"])], max_wait_s)
    path = lab.state_dir / LIVE_ACD_FILE
    write_private(path, "# Written by `ivr flows test --live` from "
                  f"{lab.agents_file}: max_wait at most {max_wait_s:g} s.\n"
                  + yaml.safe_dump(raw, sort_keys=False))  # fmt: skip
    acd.load_acd_config(path)  # what the service will read
    return path


def _lab_agents(lab: Settings) -> list[tuple[str, int]]:
    """(agent id, phone port) of the configured agents that have a phone in the lab."""
    phones = {f"PJSIP/{phone.id}": phone for phone in agent_phones(lab)}
    config = acd.load_acd_config(lab.agents_file)
    return [(agent.id, phones[agent.endpoint].port) for agent in config.agents if agent.endpoint in phones]


def lab_agent_count(lab: Settings) -> int:
    """How many agents ``lab_agents`` logs in."""
    return len(_lab_agents(lab))


async def logged_in(lab: Settings) -> list[str]:
    """The agents the lab's service has logged in."""
    try:
        async with ControlClient.from_settings(lab) as client:
            agents = await client.agents()
    except (ControlError, ConfigError) as exc:
        raise LabError(f"cannot ask the lab's service for its agents: {exc}") from None
    return [agent.id for agent in agents if agent.state is not acd.AgentState.LOGGED_OUT]


def _endpoint_state(lab: Settings, agent_id: str) -> str:
    token = base64.b64encode(f"{lab.ari_user}:{lab.ari_password}".encode()).decode()
    request = urllib.request.Request(
        f"{lab.ari_url}/endpoints/PJSIP/{agent_id}", headers={"Authorization": f"Basic {token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(json.loads(response.read()).get("state", ""))


async def _online(lab: Settings, agent_id: str) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + _ONLINE_S
    while loop.time() < give_up:
        try:
            if await asyncio.to_thread(_endpoint_state, lab, agent_id) == "online":
                return
        except Exception:  # any failed poll (HTTP, JSON, a busy ARI) is retried
            pass
        await asyncio.sleep(0.25)
    raise LabError(f"agent {agent_id}'s lab phone never came online (PJSIP/{agent_id})")


async def _phones(lab: Settings, agents: Sequence[tuple[str, int]], stack: AsyncExitStack) -> None:
    voice = write_talk_audio(lab.state_dir / "live-agent-voice.wav", seconds=AGENT_TALK_S - 1)
    behaviour = AgentBehaviour(ring_ms=300, hangup_after_s=AGENT_TALK_S, talk_audio=voice)
    for _, port in agents:
        phone: AgentPhone = await start_agent_phone(lab, port, behaviour=behaviour)
        stack.push_async_callback(phone.stop)
    await asyncio.gather(*(_online(lab, agent_id) for agent_id, _ in agents))


async def _log_out(client: ControlClient, agent_id: str) -> None:
    """Logout is refused while ringing or on a call; a wrap-up is ended by ``ready``."""
    for _ in range(60):
        try:
            await client.logout(agent_id)
            return
        except ControlError:
            with suppress(ControlError):
                await client.ready(agent_id)
        await asyncio.sleep(0.5)
    try:
        await client.logout(agent_id)
    except ControlError as exc:  # the last refusal says why
        raise LabError(f"agent {agent_id} could not be logged out again: {exc}") from None


@asynccontextmanager
async def lab_agents(lab: Settings, need: AgentNeed) -> AsyncIterator[int]:
    """Agents (and phones) for ``need`` while the block runs; yields how many are logged in."""
    agents = _lab_agents(lab)
    if not agents:
        raise LabError(f"no agent of {lab.agents_file} has a lab phone (endpoints PJSIP/1001-1003)")
    async with AsyncExitStack() as stack:
        if need is AgentNeed.READY:
            await _phones(lab, agents, stack)
        try:
            client = await stack.enter_async_context(ControlClient.from_settings(lab))
            for agent_id, _ in agents:
                await client.login(agent_id)
                stack.push_async_callback(_log_out, client, agent_id)
                if need is AgentNeed.PAUSED:
                    await client.pause(agent_id, _PAUSE_REASON)
        except (ControlError, ConfigError) as exc:
            raise LabError(f"cannot log the lab's agents in: {exc}") from None
        yield len(agents)
