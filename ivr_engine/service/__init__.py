"""The Stasis application behind ``ivr serve``.

The composition root (``ivr_engine.service.runner.run_service``) is not imported here: it wires in every
part (the ACD, the control API, the web pages). The call contract lives in ``ivr_engine.calls``.
"""

from ivr_engine.service.app import APOLOGY, IvrService, ServiceOptions
from ivr_engine.service.demo import demo_handler

__all__ = [
    "APOLOGY",
    "IvrService",
    "ServiceOptions",
    "demo_handler",
]
