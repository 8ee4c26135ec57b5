"""The flow domain's exception tree and the ``Problem`` record every check reports.

``FlowError`` is raised when a flow file cannot be used (it lists every problem found, each as
``file:line: node 'x': message``); ``FlowRuntimeError`` when a running flow meets something it cannot
do (a template names a missing variable, a sub-flow is unknown). Neither ever reaches a user as a
traceback: the CLI prints the message, the interpreter logs the node outcome ``error``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ivr_engine.flow.hints import printable

__all__ = ["FlowError", "FlowRuntimeError", "IvrFlowException", "Problem", "Severity"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding about a flow file, located as precisely as the source allows."""

    file: str
    line: int
    node: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f"node '{printable(self.node, 80)}': " if self.node else ""
        return f"{printable(where)}: {who}{printable(self.message, 600)}"


class IvrFlowException(Exception):
    """Base of every error the flow package raises."""


class FlowError(IvrFlowException):
    """A flow (or several) could not be loaded; ``problems`` lists every reason."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(problems))
        lines = "\n".join(str(p) for p in self.problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in flow:\n{lines}")


class FlowRuntimeError(IvrFlowException):
    """A running flow cannot continue at a node (bad template value, unknown sub-flow, ...)."""
