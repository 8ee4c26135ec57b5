"""The control API: operators and the agent desktop drive the running ACD over loopback HTTP.

``make_control_app`` (app.py) serves it from the running service; ``ControlClient`` (client.py) is the
typed client the CLI uses; ``control_token`` (token.py) is the shared bearer token in the state folder.
"""

from ivr_engine.control.app import CLOCK_KEY, CONTROL_KEY, SCREENPOPS_KEY, make_control_app
from ivr_engine.control.client import ControlClient, Health
from ivr_engine.control.errors import (
    ControlError,
    MalformedReply,
    RequestRefused,
    ServiceNotRunning,
    Unauthorized,
)
from ivr_engine.control.server import start_control_server
from ivr_engine.control.token import TOKEN_ENV, control_token
from ivr_engine.control.views import AgentView, QueueView, WaitingView

__all__ = [
    "CLOCK_KEY",
    "CONTROL_KEY",
    "SCREENPOPS_KEY",
    "TOKEN_ENV",
    "AgentView",
    "ControlClient",
    "ControlError",
    "Health",
    "MalformedReply",
    "QueueView",
    "RequestRefused",
    "ServiceNotRunning",
    "Unauthorized",
    "WaitingView",
    "control_token",
    "make_control_app",
    "start_control_server",
]
