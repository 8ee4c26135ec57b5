"""The reports domain's exceptions: everything ``ivr_engine.reports`` raises derives from ``ReportError``."""

from __future__ import annotations

__all__ = ["ExportError", "ReportError", "ReportSourceError"]


class ReportError(Exception):
    """Base of every reporting failure; the message is fit to show an operator."""


class ReportSourceError(ReportError):
    """The data could not be read: database unreachable or its schema not migrated."""


class ExportError(ReportError):
    """The report could not be written in the requested format or to the requested place."""
