"""The ACD's Prometheus figures, read live from ``AcdControl`` at scrape time: callers waiting and the
longest wait per queue, agents per state. ``ivr_engine.metrics`` serves them with the service's own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from acd import AgentState
from acd.live.api import AcdControl

__all__ = ["AcdCollector"]


class AcdCollector(Collector):
    def __init__(self, control: AcdControl) -> None:
        self._control = control

    def collect(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily("ivr_queue_waiting_calls", "Callers waiting per queue", labels=["queue"])
        longest = GaugeMetricFamily("ivr_queue_longest_wait_seconds", "Longest current wait per queue",
                                    labels=["queue"])  # fmt: skip
        for status in self._control.queue_statuses():
            waiting.add_metric([status.queue], len(status.waiting))
            longest.add_metric([status.queue], status.longest_wait)
        yield waiting
        yield longest
        agents = GaugeMetricFamily("ivr_agents", "Agents per state", labels=["state"])
        per_state = Counter(agent.state for agent in self._control.agents())
        for state in AgentState:
            agents.add_metric([state.value], per_state[state])
        yield agents
