"""One flow test case as a real call into the lab (``ivr flows test --live``): place it, judge it. What the
caller does is planned in ``live_plan``.

The call: SIPp does the SIP, an ``RtpEar`` of ours is the caller's RTP (it hears, and sends the keys).
Then the node path is read from the node log (the call is the new one from that caller to that number),
and what was heard is judged (``heard.check_heard``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import tempfile
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.records.rows import QueueCallRow
from ivr_engine.config import Settings
from ivr_engine.flow.cases import FlowCase
from ivr_engine.lab.heard import WAITING_TYPES, HeardCheck, Window, check_heard
from ivr_engine.lab.live_plan import AGENT_ALLOWANCE_S, AgentNeed, LivePlan
from ivr_engine.lab.paths import LabPaths
from ivr_engine.lab.rtp_ear import RtpEar
from ivr_engine.lab.sipp import CallerScript, HangupBy, SippResult, render_caller_scenario, run_scenario_file
from ivr_engine.storage import Database
from ivr_engine.storage.models import NodeEntryRow
from ivr_engine.storage.queries import CallDetail, call_detail

__all__ = ["LiveRun", "run_live_case"]

_FIRST_AUDIO_S = 20.0  # the longest a caller waits for the flow's first words
_SIPP_MARGIN_S = 1.5  # SIPp's clock starts at the answer, the ear's at the first audio


@dataclass(frozen=True)
class LiveRun:
    """What one live call gave."""

    sipp: SippResult
    call: CallDetail | None
    heard: HeardCheck | None
    packets: int = 0  # RTP packets the caller received
    keys_sent: str = ""

    @property
    def answered(self) -> bool:
        return self.sipp.answered > 0

    @property
    def hangup_by(self) -> HangupBy:
        return self.sipp.hangup_by


def _ari_channels(settings: Settings) -> list[dict[str, Any]]:
    token = base64.b64encode(f"{settings.ari_user}:{settings.ari_password}".encode()).decode()
    request = urllib.request.Request(
        f"{settings.ari_url}/channels", headers={"Authorization": f"Basic {token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        found: list[dict[str, Any]] = json.loads(response.read() or b"[]")
    return found


async def _channel_named(settings: Settings, name: str) -> str:
    """The id of the channel whose caller name is ``name`` (the call's id in the node log); runs until
    found or cancelled (when the call ends)."""
    while True:
        try:
            channels = await asyncio.to_thread(_ari_channels, settings)
        except Exception:  # any failed poll (HTTP, JSON, a busy ARI) is retried
            channels = []
        for channel in channels:
            if isinstance(channel, dict) and (channel.get("caller") or {}).get("name") == name:
                return str(channel["id"])
        await asyncio.sleep(0.25)


async def _ended_call(database: Database, call_id: str, timeout_s: float = 15) -> CallDetail | None:
    """The call once its end (and so its whole path) is stored."""
    for _ in range(int(timeout_s * 4)):
        detail = await database.run(partial(call_detail, call_id=call_id))
        if detail is not None and detail.call.ended is not None:
            return detail
        await asyncio.sleep(0.25)
    return None


def _timeout_s(plan: LivePlan) -> float:
    """The plan's bound is estimated from word counts (short for Mandarin, which has no spaces), and
    the live caller also waits for quiet: give the call twice that, and a minute more; and more again
    when it waits for an agent or a queue's max_wait."""
    waits = plan.agents in (AgentNeed.READY, AgentNeed.PAUSED)
    return plan.timeout_s * 2 + 60 + (AGENT_ALLOWANCE_S if waits else 0)


def _current_node(session: Session, call_id: str) -> str:
    row = session.get(NodeEntryRow, call_id)
    return "" if row is None else f"{row.flow}/{row.node}"


async def _in_node(database: Database, call_id: str, node: str) -> None:
    """Return once the node log says call ``call_id`` has entered ``node`` (cancelled when the call ends)."""
    while True:
        if await database.run(partial(_current_node, call_id=call_id)) == node:
            return
        await asyncio.sleep(0.2)


def _waiting(session: Session, call_id: str) -> bool:
    found = session.execute(
        select(QueueCallRow.id).where(QueueCallRow.call_id == call_id, QueueCallRow.ended.is_(None)).limit(1)
    ).first()
    return found is not None


async def _queued(database: Database, call_id: str) -> None:
    """Return once the ACD has call ``call_id`` waiting in a queue (cancelled when the call ends)."""
    while True:
        if await database.run(partial(_waiting, call_id=call_id)):
            return
        await asyncio.sleep(0.2)


def _planned(detail: CallDetail, clock_offset: timedelta) -> list[Window]:
    return [
        Window((s.entered - clock_offset).timestamp(), (s.left - clock_offset).timestamp())
        for s in detail.path
        if s.node_type in WAITING_TYPES
    ]


async def run_live_case(
    settings: Settings, database: Database, case: FlowCase, plan: LivePlan, clock_offset: timedelta
) -> LiveRun:
    """Place the call of ``plan`` (its caller name a fresh token, by which its channel, and so its call
    id, is found in ARI while it runs) and read back its node path; ``clock_offset`` is the service's clock
    minus wall time (node log times are the service's)."""
    ear = RtpEar(settings.sip_host)
    await ear.open()
    try:
        hangup = None if plan.hangup_after_s is None else plan.hangup_after_s + _SIPP_MARGIN_S
        script = CallerScript(
            number=plan.number, caller_id=case.caller, initial_wait_ms=1, hangup_after_s=hangup,
            timeout_s=_timeout_s(plan),
        )  # fmt: skip
        base = LabPaths.for_state_dir(settings.state_dir).sipp
        base.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="live-case-", dir=base))
        scenario = folder / "scenario.xml"
        name = f"case-{uuid.uuid4().hex[:16]}"  # the caller name: how we find the call's channel
        scenario.write_text(render_caller_scenario(script, [], sdp_port=ear.port, display_name=name))
        sipp = asyncio.create_task(run_scenario_file(settings, scenario, _timeout_s(plan)))
        channel = asyncio.create_task(_channel_named(settings, name))

        async def gate(node: str) -> None:
            await _in_node(database, await asyncio.shield(channel), node)

        async def held() -> None:
            await _queued(database, await asyncio.shield(channel))

        perform = asyncio.create_task(ear.perform(plan.items, _FIRST_AUDIO_S, gate, held))
        result = await sipp
        for task in (perform, channel):
            if not task.done():
                task.cancel()
        await asyncio.gather(perform, channel, return_exceptions=True)
    finally:
        ear.close()
    call_id = channel.result() if not channel.cancelled() and channel.exception() is None else None
    detail = await _ended_call(database, call_id) if call_id is not None else None
    heard = None
    if detail is not None:
        heard = check_heard(ear.heard, plan.answer_keys, _planned(detail, clock_offset))
    sent = "".join(key for _, key in ear.heard.keys)
    return LiveRun(result, detail, heard, len(ear.heard.packets), sent)
