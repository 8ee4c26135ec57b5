"""The ACD's Prometheus figures are read live from ``AcdControl`` at each scrape."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from acd.live.metrics import AcdCollector
from tests.acd_control_fakes import EPOCH, FakeControl


def _scrape(control: FakeControl) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AcdCollector(control))
    return generate_latest(registry).decode()


async def test_waiting_calls_longest_wait_and_agents_per_state_are_read_at_scrape_time() -> None:
    control = FakeControl()
    assert 'ivr_agents{state="logged_out"} 2.0' in _scrape(control)
    await control.login("1001")
    await control.pause("1001", "lunch")
    control.acd.enqueue("c1", "5551234", "general", EPOCH)
    control.acd.enqueue("c2", "5555678", "general", EPOCH + 10)
    control.now = EPOCH + 40
    text = _scrape(control)
    assert 'ivr_queue_waiting_calls{queue="general"} 2.0' in text
    assert 'ivr_queue_waiting_calls{queue="billing"} 0.0' in text
    assert 'ivr_queue_longest_wait_seconds{queue="general"} 40.0' in text
    assert 'ivr_agents{state="paused"} 1.0' in text
    assert 'ivr_agents{state="logged_out"} 1.0' in text
