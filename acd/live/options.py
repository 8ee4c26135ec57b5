"""How the live ACD is tuned: tick, shutdown bound, ring margin, hold audio, caller id on agent legs,
callbacks (retry policy, customer ring time, the caller id customers see)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from acd.live.hold import HoldOptions
from acd.retry_policy import RetryPolicy

__all__ = ["RuntimeOptions"]


@dataclass(frozen=True)
class RuntimeOptions:
    tick_seconds: float = 0.5
    quiet_tick_seconds: float = 5.0
    """While nothing waits, rings or wraps up (``AcdView.quiet``), the engine's tick and the view's refresh
    run this often instead of every tick (the chores still every tick); a change on this node or a
    notification from another makes the next tick a full one at once."""
    shutdown_timeout: float = 5.0
    ring_margin_seconds: int = 5
    """Asterisk's originate timeout is the queue's ring timeout plus this; the ACD's tick comes first."""
    hold: HoldOptions = field(default_factory=HoldOptions)
    caller_id: str = ""
    recording_spool: Path | None = None
    """Asterisk's recording folder (where ``POST /bridges/{id}/record`` writes); None: queues with
    ``record: true`` are not recorded (tests that do not need it)."""
    recordings_dir: Path | None = None
    """Where kept call recordings go (``<state folder>/call-recordings``); None: as above."""
    lease_seconds: float = 10.0
    """Several nodes: a node whose heartbeat lease is this old is released by a survivor (renewed every
    third of it)."""
    node_url: str = ""
    """Several nodes: where the other nodes reach this node's HTTP app (kept with its lease)."""
    callback_policy: RetryPolicy = field(default_factory=RetryPolicy)
    """Callbacks: attempts and their spacing (``settings.callback_attempts``, ``callback_retry_seconds``)."""
    callback_ring_seconds: int = 30
    """Callbacks: how long the customer's phone rings while the agent waits on the line."""
    outbound_caller_id: str = ""
    """Callbacks: the caller id the customer sees."""
