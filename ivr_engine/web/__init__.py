"""The web desktop: sign-in, the agent desktop (state, screen-pop, wrap-up) and the supervisor wallboard.

Served by the running service on the control app (``add_web_routes``); pages are plain HTML/CSS/JS from
``ivr_engine/web/static`` with live updates over server-sent events. Users are in the state folder
(``UserFile``); the lab creates its own (``create_lab_users``).
"""

from __future__ import annotations

from ivr_engine.web.errors import UserError, UserFileError, WebError
from ivr_engine.web.routes import add_web_routes
from ivr_engine.web.users import (
    ACCOUNTS_FILE,
    LAB_PASSWORDS_FILE,
    Role,
    UserFile,
    UserStore,
    WebUser,
    create_lab_users,
)

__all__ = [
    "ACCOUNTS_FILE",
    "LAB_PASSWORDS_FILE",
    "Role",
    "UserError",
    "UserFile",
    "UserFileError",
    "UserStore",
    "WebError",
    "WebUser",
    "add_web_routes",
    "create_lab_users",
]
