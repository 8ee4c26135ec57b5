"""Prometheus metrics of the running service, read live at scrape time (``GET /metrics``).

Nothing is double-booked: gauges come straight from the service, the ACD runtime (its figures are
``acd.live.metrics.AcdCollector``'s) and the event stream when Prometheus scrapes; the only counter we
keep ourselves is node visits, counted by a thin wrapper around the node log (``CountingNodeLog``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from acd.live.api import AcdControl
from acd.live.metrics import AcdCollector
from ivr_engine.flow.ports import NodeEntry, NodeEvent, NodeEventSink

__all__ = ["CountingNodeLog", "MetricsSources", "ServiceCollector", "add_metrics_route"]


class CountingNodeLog:
    """A ``NodeEventSink`` that counts visits per (flow, node) and passes every event on."""

    def __init__(self, inner: NodeEventSink) -> None:
        self._inner = inner
        self.visits: Counter[tuple[str, str]] = Counter()

    def entered(self, entry: NodeEntry) -> None:
        self._inner.entered(entry)

    def record(self, event: NodeEvent) -> None:
        self.visits[(event.flow, event.node)] += 1
        self._inner.record(event)

    async def flush(self, *, urgent: bool = True) -> None:
        await self._inner.flush(urgent=urgent)


@dataclass(frozen=True)
class MetricsSources:
    """Where each figure is read from; callables so the collector always sees the live value."""

    active_calls: Callable[[], int]
    handler_errors: Callable[[], int]
    calls_started: Callable[[], int]
    ari_reconnects: Callable[[], int]
    acd: AcdControl
    node_log: CountingNodeLog
    pending_writes: Callable[[], int] = lambda: 0
    dead_letters: Callable[[], int] = lambda: 0
    storage_alarm: Callable[[], bool] = lambda: False
    """True while the database refuses writes for a reason a person must fix (read-only, permissions)."""


class ServiceCollector(Collector):
    def __init__(self, sources: MetricsSources) -> None:
        self._s = sources

    def collect(self) -> Iterator[Metric]:
        s = self._s
        yield GaugeMetricFamily("ivr_active_calls", "Calls in the Stasis app now", value=s.active_calls())
        yield CounterMetricFamily("ivr_calls", "Calls started since the service started",
                                  value=s.calls_started())  # fmt: skip
        yield CounterMetricFamily("ivr_call_errors", "Calls whose handler failed (caller got an apology)",
                                  value=s.handler_errors())  # fmt: skip
        yield CounterMetricFamily("ivr_ari_reconnects", "Events WebSocket reconnects",
                                  value=s.ari_reconnects())  # fmt: skip
        yield from AcdCollector(s.acd).collect()
        yield GaugeMetricFamily("ivr_storage_pending_writes", "Writes accepted, not yet in the database",
                                value=s.pending_writes())  # fmt: skip
        yield CounterMetricFamily("ivr_storage_dead_letters", "Rows the database refused as bad, kept aside",
                                  value=s.dead_letters())  # fmt: skip
        yield GaugeMetricFamily("ivr_storage_alarm", "1 while the database refuses writes (operator action)",
                                value=1 if s.storage_alarm() else 0)  # fmt: skip
        visits = CounterMetricFamily("ivr_node_visits", "IVR nodes entered", labels=["flow", "node"])
        for (flow, node), count in sorted(s.node_log.visits.items()):
            visits.add_metric([flow, node], count)
        yield visits


def add_metrics_route(app: web.Application, sources: MetricsSources) -> None:
    """Serve ``GET /metrics`` (Prometheus text format) on ``app``; loopback-only like the rest."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(sources))

    async def metrics(request: web.Request) -> web.Response:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/metrics", metrics)
