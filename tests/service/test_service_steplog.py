"""The operator's ``call.step`` line per node left: what an operator follows, never the caller's input."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from ivr_engine.flow.ports import NodeEntry, NodeEvent
from ivr_engine.service.steplog import LoggedNodeLog

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Sink:
    def __init__(self) -> None:
        self.entries: list[NodeEntry] = []
        self.events: list[NodeEvent] = []
        self.flushed = 0

    def entered(self, entry: NodeEntry) -> None:
        self.entries.append(entry)

    def record(self, event: NodeEvent) -> None:
        self.events.append(event)

    async def flush(self, *, urgent: bool = True) -> None:
        self.flushed += 1


async def test_each_node_left_is_one_info_line_and_every_write_reaches_the_inner_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inner = Sink()
    steps = LoggedNodeLog(inner)
    caplog.set_level(logging.INFO, logger="ivr_engine.service.steps")
    entry = NodeEntry("c1", 1, "balance", "ask_pin", "gather", T0)
    event = NodeEvent("c1", 1, "balance", "ask_pin", "gather", T0, T0 + timedelta(milliseconds=2345),
                      input="4321", outcome="next")  # fmt: skip
    steps.entered(entry)
    steps.record(event)
    await steps.flush()

    assert (inner.entries, inner.events, inner.flushed) == ([entry], [event], 1)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "call.step call=c1 flow=balance node=ask_pin outcome=next ms=2345")
    ]
