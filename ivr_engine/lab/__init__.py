"""The local Asterisk + SIPp lab: config rendering, lifecycle (up/down/status) and SIPp callers."""

from __future__ import annotations

from ivr_engine.lab.errors import (
    AsteriskMissing,
    KamailioMissing,
    LabError,
    LabStartError,
    NoSharedDatabase,
    PortInUse,
    RenderError,
    SippError,
    SippMissing,
    TopologyError,
)
from ivr_engine.lab.paths import LabPaths

__all__ = [
    "AsteriskMissing",
    "KamailioMissing",
    "LabError",
    "LabPaths",
    "LabStartError",
    "NoSharedDatabase",
    "PortInUse",
    "RenderError",
    "SippError",
    "SippMissing",
    "TopologyError",
]
