"""The service's settings (``ServiceOptions``), shared by the call tasks and the resync."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ivr_engine.ari.channel import WaitBounds
from ivr_engine.ari.stream import Backoff
from ivr_engine.clock import ServiceClock
from ivr_engine.flow.ports import Clock

__all__ = ["ServiceOptions"]


@dataclass(frozen=True)
class ServiceOptions:
    recordings_dir: Path = Path("/var/spool/asterisk/recording")
    language: str = "en"
    shutdown_timeout: float = 5.0
    apology_timeout: float = 10.0
    orphan_grace: float = 0.5
    clock: Clock = field(default_factory=ServiceClock)
    """The service's one clock: calls rows are stamped with it."""
    sweep_interval: float = 60.0
    """Seconds between sweeps of call rows left ``in_progress`` (see ``Resync.start_sweeps``)."""
    sweep_retry: float = 5.0
    """Seconds before the next sweep when the last one could not run (database or ARI down)."""
    wait_bounds: WaitBounds = field(default_factory=WaitBounds)
    """How long a call waits for a playback or recording event before asking ARI (see AriChannel)."""
    resync_backoff: Backoff = field(default_factory=lambda: Backoff(0.25, 2.0, 5.0))
    """Pause before each new try of a resync whose requests failed (0.25 s doubling to 5 s), until one
    runs or a newer connection's resync takes over: orphans wait in silence until a resync finds them."""
