"""The local Asterisk + SIPp lab: config rendering, lifecycle (up/down/status) and SIPp callers."""

from __future__ import annotations

from ivr_engine.lab.errors import (
    AsteriskMissing,
    LabError,
    LabStartError,
    PortInUse,
    RenderError,
    SippError,
    SippMissing,
)
from ivr_engine.lab.paths import LabPaths

__all__ = [
    "AsteriskMissing",
    "LabError",
    "LabPaths",
    "LabStartError",
    "PortInUse",
    "RenderError",
    "SippError",
    "SippMissing",
]
