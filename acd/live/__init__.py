"""The live ACD: queued callers on hold, agent offers, bridging, and operator control (``AcdControl``)."""

from acd.live.api import AcdControl, RuntimeEvent, RuntimeEventKind
from acd.live.facts import AcdFactSink
from acd.live.hold import HoldOptions
from acd.live.runtime import AcdRuntime, RuntimeOptions
from acd.live.wiring import acd_runtime, build_acd_runtime

__all__ = [
    "AcdControl",
    "AcdFactSink",
    "AcdRuntime",
    "HoldOptions",
    "RuntimeEvent",
    "RuntimeEventKind",
    "RuntimeOptions",
    "acd_runtime",
    "build_acd_runtime",
]
