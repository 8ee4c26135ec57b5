"""A service stand-in a fault test kills with SIGKILL: it opens the stores, makes one call's writes,
says ``ready`` on stdout and waits to be killed (``--die`` kills itself right after the writes,
without waiting for the database).

    python -m tests.storage.crash_writer STATE_DIR DATABASE_URL CALL_ID [--die]
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ivr_engine.channel import Recording
from ivr_engine.config import Settings
from ivr_engine.flow.ports import CallRecord, NodeEntry, NodeEvent
from ivr_engine.storage import open_stores

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
NODES = ("welcome", "main_menu", "balance", "survey")


async def main(state_dir: Path, url: str, call_id: str, die: bool) -> None:
    settings = Settings(state_dir=state_dir, database_url=url)
    async with open_stores(settings, flush_interval=0.05, close_grace=0.1) as stores:
        await stores.calls.call_started(CallRecord(call_id, "5550100", "100", T0))
        for seq, node in enumerate(NODES, 1):
            entered = T0 + timedelta(seconds=seq)
            stores.node_log.entered(NodeEntry(call_id, seq, "main", node, "menu", entered))
            stores.node_log.record(NodeEvent(call_id, seq, "main", node, "menu", entered,
                                             entered + timedelta(milliseconds=500), None, "next"))
        stores.node_log.entered(NodeEntry(call_id, 5, "main", "goodbye", "play", T0 + timedelta(seconds=9)))
        await stores.surveys.save_answer(call_id=call_id, survey="post_call", question="q1", score=4,
                                         agent_id=None)
        await stores.voicemails.save_voicemail(call_id=call_id, caller="5550100", mailbox="general",
                                               recording=Recording("vm", f"/rec/{call_id}.wav", 3.0))
        if die:
            os.kill(os.getpid(), signal.SIGKILL)
        await stores.writer.flush()
        print("ready", flush=True)
        await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3], "--die" in sys.argv[4:]))
