"""The live ACD: queued callers on hold, agent offers, bridging, and operator control (``AcdControl``)."""

from ivr_engine.queues.api import AcdControl, RuntimeEvent, RuntimeEventKind
from ivr_engine.queues.facts import AcdFactSink
from ivr_engine.queues.hold import HoldOptions
from ivr_engine.queues.runtime import AcdRuntime, RuntimeOptions
from ivr_engine.queues.wiring import acd_runtime, build_acd_runtime

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
