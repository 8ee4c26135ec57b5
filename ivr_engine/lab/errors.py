"""The lab's exception tree. Every message is one sentence an operator can act on.

LabError
├── RenderError      a template is missing or fails to render
├── AsteriskMissing  asterisk is not installed (run sip-lab/install)
├── PortInUse        a port the lab needs is held by another process
├── LabStartError    Asterisk or ``ivr serve`` did not come up (message says where the log is)
└── SippError        a SIPp run could not be started or its results not read
    └── SippMissing  sipp is not installed (run sip-lab/install)
"""

from __future__ import annotations

__all__ = [
    "AsteriskMissing",
    "LabError",
    "LabStartError",
    "PortInUse",
    "RenderError",
    "SippError",
    "SippMissing",
]


class LabError(Exception):
    """Base of every lab failure."""


class RenderError(LabError):
    """A config template is missing or cannot be rendered."""


class AsteriskMissing(LabError):
    """The asterisk binary or its modules are not installed."""


class PortInUse(LabError):
    """A port the lab must bind is already taken by a process the lab did not start."""


class LabStartError(LabError):
    """Asterisk or the service started but did not become ready in time."""


class SippError(LabError):
    """SIPp could not be run, or its statistics could not be read."""


class SippMissing(SippError):
    """The sipp binary is not installed."""
