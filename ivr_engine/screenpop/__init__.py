"""Screen-pop: the caller's record, their IVR path and last calls, delivered when an agent answers.

``ScreenPopService`` (service.py) consumes the ACD runtime's events; ``build_screen_pop`` (build.py)
reads storage; ``ScreenPop`` (model.py) is the JSON-serialisable record; ``format_screen_pop``
(text.py) renders it for a terminal.
"""

from ivr_engine.screenpop.build import Answered, build_screen_pop
from ivr_engine.screenpop.errors import MalformedScreenPop, ScreenPopError
from ivr_engine.screenpop.model import (
    NEW_CALLER,
    AccountSummary,
    CustomerCard,
    OrderSummary,
    PastCall,
    PathEntry,
    ScreenPop,
)
from ivr_engine.screenpop.service import ScreenPopService, answered_from
from ivr_engine.screenpop.text import format_screen_pop

__all__ = [
    "NEW_CALLER",
    "AccountSummary",
    "Answered",
    "CustomerCard",
    "MalformedScreenPop",
    "OrderSummary",
    "PastCall",
    "PathEntry",
    "ScreenPop",
    "ScreenPopError",
    "ScreenPopService",
    "answered_from",
    "build_screen_pop",
    "format_screen_pop",
]
