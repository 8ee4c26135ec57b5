"""The service's clock lives in :mod:`ivr_engine.clock` (one clock for the whole service)."""

from __future__ import annotations

from ivr_engine.clock import ServiceClock, clock_from_setting

__all__ = ["ServiceClock", "clock_from_setting"]
