"""The lab's exception tree. Every message is one sentence an operator can act on.

LabError
├── RenderError      a template is missing or fails to render
├── AsteriskMissing  asterisk is not installed (run sip-lab/install)
├── KamailioMissing  kamailio or a module its lab config loads is not installed
├── TopologyError    a node count or node this lab cannot have, or a damaged lab-nodes.yaml
│   └── NoSharedDatabase  several nodes asked for without a PostgreSQL database to share
├── PortInUse        a port the lab needs is held by another process
├── LabStartError    Asterisk, ``ivr serve`` or Kamailio did not come up (message says where the log is)
└── SippError        a SIPp run could not be started or its results not read
    └── SippMissing  sipp is not installed (run sip-lab/install)
"""

from __future__ import annotations

__all__ = [
    "AsteriskMissing",
    "KamailioMissing",
    "LabError",
    "LabStartError",
    "NoSharedDatabase",
    "PortInUse",
    "RenderError",
    "SippError",
    "SippMissing",
    "TopologyError",
]


class LabError(Exception):
    """Base of every lab failure."""


class RenderError(LabError):
    """A config template is missing or cannot be rendered."""


class AsteriskMissing(LabError):
    """The asterisk binary or its modules are not installed."""


class KamailioMissing(LabError):
    """kamailio, or a module the lab's Kamailio config loads, is not installed."""


class TopologyError(LabError):
    """A node count or node number that this lab cannot have, or a damaged ``lab-nodes.yaml``."""


class NoSharedDatabase(TopologyError):
    """Several nodes were asked for without a PostgreSQL database they can share."""


class PortInUse(LabError):
    """A port the lab must bind is already taken by a process the lab did not start."""


class LabStartError(LabError):
    """Asterisk, the service or Kamailio started but did not become ready in time (or exited)."""


class SippError(LabError):
    """SIPp could not be run, or its statistics could not be read."""


class SippMissing(SippError):
    """The sipp binary is not installed."""
