"""What the work-order domain refuses, one exception tree (the CLI and HTTP map it in one place each)."""

from __future__ import annotations

__all__ = ["NoSuchOrder", "PolicyError", "WorkOrderError"]


class WorkOrderError(Exception):
    """A work-order operation refused, with a sentence for the person who asked."""


class NoSuchOrder(WorkOrderError):
    def __init__(self, serial: str) -> None:
        super().__init__(f"no work order {serial!r} (see `ivr ticket list`)")
        self.serial = serial


class PolicyError(WorkOrderError):
    """``workorders.yaml`` cannot be read: names the file and, where known, the line."""
