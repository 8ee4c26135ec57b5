"""The control domain's exceptions: everything the control client raises derives from ``ControlError``."""

from __future__ import annotations

__all__ = ["ControlError", "MalformedReply", "RequestRefused", "ServiceNotRunning", "Unauthorized"]


class ControlError(Exception):
    """Base of every control-API failure; the message is one sentence fit to show an operator."""


class ServiceNotRunning(ControlError):
    """Nothing answers at the control API's address."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        super().__init__(f"the ivr service is not running at {base_url} (start it with `ivr serve`)")


class Unauthorized(ControlError):
    """The service refused the bearer token (a different state folder than the service's?)."""


class RequestRefused(ControlError):
    """The service answered 4xx/5xx; ``message`` is its ``{"error": ...}`` text."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


class MalformedReply(ControlError):
    """The service answered something this client does not understand (version mismatch?)."""
