"""What a node type's ``check`` may ask of ``ivr validate``: report problems, know the other flows,
the named lookups and the ACD's queues and skills."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from ivr_engine.flow.model import NodeBase

__all__ = ["AcdNames", "LookupSignature", "NodeChecks"]


@dataclass(frozen=True)
class LookupSignature:
    params: frozenset[str]
    values: frozenset[str]


@dataclass(frozen=True)
class AcdNames:
    """The queue and skill names of ``acd.yaml`` (settings ``agents_file``) that transfers may name."""

    file: str
    queues: frozenset[str]
    skills: frozenset[str]


class NodeChecks(Protocol):
    def error(self, node: NodeBase, message: str) -> None: ...

    def warn(self, node: NodeBase, message: str) -> None: ...

    @property
    def flow_names(self) -> frozenset[str]: ...

    @property
    def lookups(self) -> Mapping[str, LookupSignature]: ...

    @property
    def acd(self) -> AcdNames | None: ...
