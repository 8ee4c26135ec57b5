"""The screen-pop domain's exceptions: everything this package raises derives from ``ScreenPopError``."""

from __future__ import annotations

__all__ = ["MalformedScreenPop", "ScreenPopError"]


class ScreenPopError(Exception):
    """Base of every screen-pop failure; the message is fit to show an operator."""


class MalformedScreenPop(ScreenPopError):
    """JSON that does not describe a screen-pop (e.g. from a different service version)."""
