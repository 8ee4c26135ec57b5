"""/metrics says how many writes wait, how many rows were set aside, and when the database needs a person."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from ivr_engine.flow.memory import MemoryNodeLog
from ivr_engine.metrics import CountingNodeLog, MetricsSources, ServiceCollector


class NoAcd:
    def queue_statuses(self) -> list[object]:
        return []

    def agents(self) -> list[object]:
        return []


def scrape(**storage: object) -> str:
    sources = MetricsSources(
        active_calls=lambda: 0, handler_errors=lambda: 0, calls_started=lambda: 0, ari_reconnects=lambda: 0,
        acd=NoAcd(), node_log=CountingNodeLog(MemoryNodeLog()), **storage,  # type: ignore[arg-type]
    )  # fmt: skip
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(sources))
    return generate_latest(registry).decode()


def test_storage_figures_are_exported() -> None:
    text = scrape(pending_writes=lambda: 42, dead_letters=lambda: 3, storage_alarm=lambda: True)
    assert "ivr_storage_pending_writes 42.0" in text
    assert "ivr_storage_dead_letters_total 3.0" in text
    assert "ivr_storage_alarm 1.0" in text
    calm = scrape()
    assert "ivr_storage_alarm 0.0" in calm
    assert "ivr_storage_pending_writes 0.0" in calm
