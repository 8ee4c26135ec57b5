"""The web desktop's exceptions: everything ``ivr_engine.web`` raises derives from ``WebError``."""

from __future__ import annotations

__all__ = ["UserError", "UserFileError", "WebError"]


class WebError(Exception):
    """Base of every web-desktop failure; the message is one sentence fit to show a user or operator."""


class UserError(WebError):
    """A user name, role, agent id or password that cannot be accepted (bad input, duplicate user)."""


class UserFileError(WebError):
    """The users file in the state folder cannot be read or written."""
