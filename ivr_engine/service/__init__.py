"""The Stasis application behind ``ivr serve``.

The composition root (``ivr_engine.service.runner.run_service``) is not imported here: it wires in the
ACD runtime, which itself builds on this package's handlers.
"""

from ivr_engine.service.app import APOLOGY, IvrService, ServiceOptions
from ivr_engine.service.handlers import ORIGINATED_MARKER, CallHandler, CallInfo, demo_handler

__all__ = [
    "APOLOGY",
    "ORIGINATED_MARKER",
    "CallHandler",
    "CallInfo",
    "IvrService",
    "ServiceOptions",
    "demo_handler",
]
